import { readFileSync } from "node:fs";
import { connect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";

interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Writes bytes no well-behaved HTTP client would send on a real mTLS connection and reads until the edge closes. */
function rawExchange(pki: TestPkiManifest, port: number, payload: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, servername: "localhost", ca: readFileSync(pki.trustAnchors), ...clientCredentials(pki, "participant-a") });
    const chunks: Buffer[] = [];
    socket.on("secureConnect", () => socket.write(payload));
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", reject);
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const end = text.indexOf("\r\n\r\n");
      const [statusLine = "", ...lines] = text.slice(0, end < 0 ? text.length : end).split("\r\n");
      const headers: Record<string, string> = {};
      for (const l of lines) headers[l.slice(0, l.indexOf(":")).toLowerCase()] = l.slice(l.indexOf(":") + 1).trim();
      let body = end < 0 ? "" : text.slice(end + 4);
      if (headers["transfer-encoding"] === "chunked") body = body.replace(/^[0-9a-f]+\r\n/i, "").replace(/\r\n0\r\n\r\n$/, "");
      resolve({ status: Number(statusLine.split(" ")[1] ?? 0), headers, body });
    });
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

describe("requests the HTTP layer refuses, answered in the OFB error format", () => {
  let pki: TestPkiManifest;
  let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
  let edge: Awaited<ReturnType<typeof startTestEdge>>;

  beforeAll(async () => {
    pki = await testPki();
    backend = await startRecordingBackend();
    edge = await startTestEdge({ pki, upstream: backend.url });
  });

  afterAll(async () => {
    await edge?.close();
    await backend?.close();
  });

  async function expectOfbRejection(payload: string, status: number, code: string) {
    const before = backend.received.length;
    const res = await rawExchange(pki, edge.port, payload);
    expect(res.status).toBe(status);
    expect(res.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(res.headers["x-fapi-interaction-id"]).toMatch(UUID);
    expect(res.headers.date).toBeDefined();
    const body = JSON.parse(res.body) as { errors: { code: string }[]; meta: { requestDateTime: string } };
    expect(body.errors[0]!.code).toBe(code);
    expect(body.meta.requestDateTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(backend.received).toHaveLength(before);
    return res;
  }

  const id = "6f1c3f0e-8b3a-4f5e-9d2c-1a2b3c4d5e6f";

  it("header fields larger than http.maxHeaderBytes → 431 REQUEST_HEADERS_TOO_LARGE (RFC 6585 §5)", async () => {
    const big = "a".repeat(20_000);
    const res = await expectOfbRejection(`GET /open-banking/accounts HTTP/1.1\r\nHost: localhost\r\nx-fapi-interaction-id: ${id}\r\nx-big: ${big}\r\n\r\n`, 431, "REQUEST_HEADERS_TOO_LARGE");
    expect(res.headers.connection).toBe("close");
  });

  it("a request line that is not HTTP → 400 REQUEST_MALFORMED", async () => {
    await expectOfbRejection("GARBAGE\r\n\r\n", 400, "REQUEST_MALFORMED");
  });

  it("Content-Length together with Transfer-Encoding (request smuggling, RFC 9112 §6.3) → 400 REQUEST_MALFORMED", async () => {
    await expectOfbRejection(
      `POST /open-banking/accounts HTTP/1.1\r\nHost: localhost\r\nx-fapi-interaction-id: ${id}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      400,
      "REQUEST_MALFORMED",
    );
  });

  it("a field line without a colon → 400 REQUEST_MALFORMED", async () => {
    await expectOfbRejection(`GET /open-banking/accounts HTTP/1.1\r\nHost: localhost\r\nnot a header\r\n\r\n`, 400, "REQUEST_MALFORMED");
  });

  it("an absolute-form request target (RFC 9112 §3.2.2: proxies only) → 400 REQUEST_PATH_INVALID", async () => {
    await expectOfbRejection(`GET https://evil.example/open-banking/accounts HTTP/1.1\r\nHost: localhost\r\nx-fapi-interaction-id: ${id}\r\nConnection: close\r\n\r\n`, 400, "REQUEST_PATH_INVALID");
  });

  it("a backslash in the path (read as '/' by some backends: path confusion) → 400 REQUEST_PATH_INVALID, the client's interaction id echoed", async () => {
    const res = await expectOfbRejection(`GET /open-banking\\..\\admin HTTP/1.1\r\nHost: localhost\r\nx-fapi-interaction-id: ${id}\r\nConnection: close\r\n\r\n`, 400, "REQUEST_PATH_INVALID");
    expect(res.headers["x-fapi-interaction-id"]).toBe(id);
  });

  it("a Host header that is not a host → 400 in the OFB format", async () => {
    await expectOfbRejection(`GET /open-banking/accounts HTTP/1.1\r\nHost: evil.example/@x\r\nx-fapi-interaction-id: ${id}\r\nConnection: close\r\n\r\n`, 400, "REQUEST_MALFORMED");
  });

  it("an HTTP/1.1 request without Host (RFC 9112 §3.2) → 400 in the OFB format", async () => {
    await expectOfbRejection(`GET /open-banking/accounts HTTP/1.1\r\nx-fapi-interaction-id: ${id}\r\nConnection: close\r\n\r\n`, 400, "REQUEST_MALFORMED");
  });
});
