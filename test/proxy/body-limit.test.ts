import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { httpsRequest } from "../helpers/client.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";
import { openHttpsRequest, writeChunk } from "../helpers/open-request.js";

const LIMIT = 256 * 1024;

interface Arrival {
  readonly url: string;
  bytes: number;
  complete: boolean;
  aborted: boolean;
}

/**
 * A real backend that records every request as soon as its head arrives (`arrivals`), and whether its body
 * completed or was cut off; the shared recording backend only sees complete requests and fails on aborted ones.
 */
async function startArrivalBackend() {
  const arrivals: Arrival[] = [];
  const server = createServer((req, res) => {
    const a: Arrival = { url: req.url ?? "", bytes: 0, complete: false, aborted: false };
    arrivals.push(a);
    req.on("data", (c: Buffer) => void (a.bytes += c.length));
    req.on("error", () => void (a.aborted = true));
    req.on("end", () => {
      a.complete = true;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ bytes: a.bytes }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    arrivals,
    close: () => new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    }),
  };
}

describe("request body size limit (proxy.maxRequestBodyBytes)", () => {
  let pki: TestPkiManifest;
  let backend: Awaited<ReturnType<typeof startArrivalBackend>>;
  let edge: Awaited<ReturnType<typeof startTestEdge>>;

  beforeAll(async () => {
    pki = await testPki();
    backend = await startArrivalBackend();
    edge = await startTestEdge({ pki, upstream: backend.url, proxy: { maxRequestBodyBytes: LIMIT } });
  });

  afterAll(async () => {
    await edge?.close();
    await backend?.close();
  });

  it("answers 413 to a declared Content-Length above the limit before forwarding anything (not even the head)", async () => {
    const before = backend.arrivals.length;
    const { req, outcome } = openHttpsRequest({
      pki,
      port: edge.port,
      credentials: clientCredentials(pki, "participant-a"),
      headers: { "content-length": String(LIMIT + 1), "content-type": "application/json" },
    });
    // Headers only: the edge decides on the declaration, without waiting for (or reading) the body.
    req.flushHeaders();
    const res = await outcome;
    req.destroy();
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body.toString()).errors[0].code).toBe("REQUEST_TOO_LARGE");
    // The unread upload is not drained: the edge closes the connection after answering.
    expect(res.headers.connection).toBe("close");
    expect(backend.arrivals).toHaveLength(before);
  });

  it("forwards a body of exactly the limit, intact", async () => {
    const before = backend.arrivals.length;
    const res = await httpsRequest({ pki, port: edge.port, credentials: clientCredentials(pki, "participant-a"), method: "POST", body: Buffer.alloc(LIMIT, 0x61) });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ bytes: LIMIT });
    expect(backend.arrivals.slice(before)).toEqual([expect.objectContaining({ complete: true, bytes: LIMIT })]);
  });

  it("forwards a chunked body up to the limit", async () => {
    const before = backend.arrivals.length;
    const { req, outcome } = openHttpsRequest({ pki, port: edge.port, credentials: clientCredentials(pki, "participant-a") });
    for (let i = 0; i < 4; i++) await writeChunk(req, Buffer.alloc(LIMIT / 4, 0x62));
    req.end();
    const res = await outcome;
    expect(res.status).toBe(200);
    expect(backend.arrivals.slice(before)).toEqual([expect.objectContaining({ complete: true, bytes: LIMIT })]);
  });

  /**
   * A chunked body has no declared length, so its head is already on its way to the backend when the limit is
   * crossed. What the client sees: 413 REQUEST_TOO_LARGE with `Connection: close` (the rest of its upload is
   * never read). What the backend sees: at most `LIMIT` bytes, then the upstream request is aborted.
   */
  it("cuts off a chunked body that exceeds the limit: 413 to the client, never a complete request at the backend", async () => {
    const before = backend.arrivals.length;
    const { req, outcome } = openHttpsRequest({ pki, port: edge.port, credentials: clientCredentials(pki, "participant-a") });
    let answered = false;
    void outcome.then(() => (answered = true));
    const piece = Buffer.alloc(16 * 1024, 0x63);
    // Keep sending well past the limit until the edge answers (a write may block once the edge stops reading).
    for (let sent = 0; !answered && sent < LIMIT * 4; sent += piece.length) {
      await Promise.race([writeChunk(req, piece).catch(() => undefined), outcome]);
    }
    const res = await outcome;
    req.destroy();
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body.toString()).errors[0].code).toBe("REQUEST_TOO_LARGE");
    expect(res.headers.connection).toBe("close");
    expect(res.headers["x-fapi-interaction-id"]).toMatch(/^[0-9a-f-]{36}$/);
    await vi.waitFor(() => expect(backend.arrivals.slice(before)).toEqual([expect.objectContaining({ aborted: true, complete: false })]));
    expect(backend.arrivals[before]!.bytes).toBeLessThanOrEqual(LIMIT);
  });
});
