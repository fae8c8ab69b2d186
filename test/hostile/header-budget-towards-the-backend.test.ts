import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest, type TestResponse } from "../helpers/client.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";

/**
 * The edge adds several KiB of verified identity to every request. A request the edge accepts must not then be
 * refused by the backend for its size with a bare 431 that the edge relays as "forwarded": the edge keeps a header
 * budget towards the backend (`proxy.maxUpstreamHeaderBytes`) and refuses over it itself, and a backend's own bare
 * 400/413/431 (not an OFB error) is answered in the OFB format with a reason code.
 */

type ErrorBody = { errors: { code: string; title: string; detail: string }[]; meta: { requestDateTime: string } };

let pki: TestPkiManifest;

beforeAll(async () => {
  pki = await testPki();
});

function expectOfb(res: TestResponse, status: number, code: string, id: string) {
  expect(res.status).toBe(status);
  expect(res.headers["content-type"]).toBe("application/json; charset=utf-8");
  expect(res.headers["cache-control"]).toBe("no-store");
  expect(res.headers["x-fapi-interaction-id"]).toBe(id);
  expect(res.json<ErrorBody>().errors[0]!.code).toBe(code);
}

describe("the budget towards the backend (proxy.maxUpstreamHeaderBytes)", () => {
  // A Node backend: its own limit is Node's default, 16 KiB for the request head.
  let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
  let edge: Awaited<ReturnType<typeof startTestEdge>>;
  beforeAll(async () => {
    backend = await startRecordingBackend();
    edge = await startTestEdge({ pki, upstream: backend.url });
  });
  afterAll(async () => {
    await edge?.close();
    await backend?.close();
  });

  // Under http.maxHeaderBytes (16384) as sent; over 16384 once the test PKI's identity (~3.5 KB) is added.
  const longPath = (prefix: string) => `${prefix}?filter=${"a".repeat(14_000)}`;

  it("a ~14 KB target the edge accepts, over the budget once the identity is added → 431 UPSTREAM_HEADERS_TOO_LARGE, not forwarded", async () => {
    const id = randomUUID();
    const res = await httpsRequest({ pki, port: edge.port, credentials: clientCredentials(pki, "participant-a"), path: longPath("/open-banking/accounts/v2/accounts"), headers: { "x-fapi-interaction-id": id } });
    expectOfb(res, 431, "UPSTREAM_HEADERS_TOO_LARGE", id);
    expect(res.json<ErrorBody>().errors[0]!.detail).toMatch(/over proxy\.maxUpstreamHeaderBytes \(16384\)/);
    expect(backend.received).toHaveLength(0);
    expect(edge.logs.filter((l) => l.kind === "access" && l.interactionId === id)).toEqual([expect.objectContaining({ status: 431, decision: "rejected", code: "UPSTREAM_HEADERS_TOO_LARGE", stage: "proxy" })]);
  });

  it("the same target without a certificate (no identity added) fits and is forwarded", async () => {
    const res = await httpsRequest({ pki, port: edge.port, path: longPath("/.well-known/openid-configuration") });
    expect(res.status).toBe(200);
    expect(backend.received).toHaveLength(1);
  });
});

describe("a backend's own bare refusals", () => {
  const ofbBody = JSON.stringify({ errors: [{ code: "PARAMETRO_INVALIDO", title: "Parâmetro inválido", detail: "page-size" }], meta: { requestDateTime: "2021-05-21T08:30:00Z" } });
  let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
  let edge: Awaited<ReturnType<typeof startTestEdge>>;
  beforeAll(async () => {
    backend = await startRecordingBackend((req, res) => {
      const kind = req.url.split("/").at(-1);
      if (kind === "html-431") {
        res.writeHead(431, { "content-type": "text/html" });
        res.end("<html><body><h1>431 Request Header Fields Too Large</h1></body></html>");
      } else if (kind === "bare-413") {
        res.writeHead(413, { "content-type": "text/plain" });
        res.end("Payload Too Large");
      } else if (kind === "empty-400") {
        res.writeHead(400, { connection: "close" });
        res.end();
      } else if (kind === "json-400") {
        res.writeHead(400, { "content-type": "application/json" });
        res.end(JSON.stringify({ message: "bad request" }));
      } else {
        res.writeHead(400, { "content-type": "application/json; charset=utf-8" });
        res.end(ofbBody);
      }
    });
    edge = await startTestEdge({ pki, upstream: backend.url });
  });
  afterAll(async () => {
    await edge?.close();
    await backend?.close();
  });

  it.each([
    ["html-431", 431, "UPSTREAM_REFUSED_HEADERS"],
    ["bare-413", 413, "UPSTREAM_REFUSED_BODY"],
    ["empty-400", 400, "UPSTREAM_REFUSED_REQUEST"],
    ["json-400", 400, "UPSTREAM_REFUSED_REQUEST"],
  ])("%s → %i %s in the OFB format; the access line has both statuses", async (kind, status, code) => {
    const id = randomUUID();
    const res = await httpsRequest({ pki, port: edge.port, credentials: clientCredentials(pki, "participant-a"), path: `/open-banking/accounts/v2/${kind}`, headers: { "x-fapi-interaction-id": id } });
    expectOfb(res, status, code, id);
    expect(res.body.toString("utf8")).not.toMatch(/html|Payload|bad request/);
    expect(edge.logs.filter((l) => l.kind === "access" && l.interactionId === id)).toEqual([expect.objectContaining({ status, upstreamStatus: status, decision: "rejected", code, stage: "proxy" })]);
  });

  it("a backend's 400 with an OFB error body is relayed as the backend wrote it", async () => {
    const id = randomUUID();
    const res = await httpsRequest({ pki, port: edge.port, credentials: clientCredentials(pki, "participant-a"), path: "/open-banking/accounts/v2/ofb-400", headers: { "x-fapi-interaction-id": id } });
    expect(res.status).toBe(400);
    expect(res.body.toString("utf8")).toBe(ofbBody);
    expect(res.headers["x-fapi-interaction-id"]).toBe(id);
    expect(edge.logs.filter((l) => l.kind === "access" && l.interactionId === id)).toEqual([expect.objectContaining({ status: 400, decision: "forwarded" })]);
  });
});
