import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { startTestEdge, testPki } from "../helpers/edge.js";
import { isOfbError, ofbCode, openRaw, requestHead } from "./raw-http.js";

/**
 * Slow clients (slowloris: a header a byte at a time, or a body that never ends) hold a connection each. The edge
 * answers them 408 (RFC 9110 §15.5.9) in the OFB format at the configured time — not a 400 up to 30 s late, when
 * Node's periodic connection check happens to run.
 */

const HEADERS_TIMEOUT_MS = 1_000;
const REQUEST_TIMEOUT_MS = 2_000;
/** Node checks the time-outs periodically: the answer may come this much after the configured time. */
const TOLERANCE_MS = 600;

let pki: TestPkiManifest;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
let edge: Awaited<ReturnType<typeof startTestEdge>>;

beforeAll(async () => {
  pki = await testPki();
  backend = await startRecordingBackend();
  const tls = { cert: pki.server.cert, key: pki.server.key, trustAnchors: [pki.trustAnchors] };
  edge = await startTestEdge({
    pki,
    upstream: backend.url,
    listeners: [{ name: "mtls", host: "127.0.0.1", port: 0, mode: "permissive", tls, http: { headersTimeoutMs: HEADERS_TIMEOUT_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS } }],
  });
});

afterAll(async () => {
  await edge?.close();
  await backend?.close();
});

describe("requests that arrive too slowly", () => {
  it("a request header sent a byte at a time → 408 REQUEST_TIMEOUT at http.headersTimeoutMs", async () => {
    const conn = await openRaw(pki, edge.port);
    const started = performance.now();
    const { head } = requestHead("GET", "/open-banking/accounts/v2/accounts");
    let i = 0;
    const dribble = setInterval(() => i < head.length - 4 && conn.write(head[i++]!), 50);
    const outcome = await conn.closed(5_000);
    clearInterval(dribble);
    const elapsed = performance.now() - started;
    expect(outcome.responses).toHaveLength(1);
    const [answer] = outcome.responses;
    expect([answer!.status, ofbCode(answer!), answer!.headers.connection]).toEqual([408, "REQUEST_TIMEOUT", "close"]);
    expect(isOfbError(answer!)).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 100);
    expect(elapsed).toBeLessThan(HEADERS_TIMEOUT_MS + TOLERANCE_MS);
    expect(backend.received).toHaveLength(0);
  });

  it("a connection that sends nothing after its handshake → 408 at http.headersTimeoutMs", async () => {
    const conn = await openRaw(pki, edge.port);
    const started = performance.now();
    const outcome = await conn.closed(5_000);
    const elapsed = performance.now() - started;
    expect(outcome.responses.map((r) => [r.status, ofbCode(r)])).toEqual([[408, "REQUEST_TIMEOUT"]]);
    expect(elapsed).toBeLessThan(HEADERS_TIMEOUT_MS + TOLERANCE_MS);
  });

  it("a body that stops arriving → 408 at http.requestTimeoutMs with the client's interaction id; the backend executes nothing", async () => {
    const conn = await openRaw(pki, edge.port);
    const started = performance.now();
    const { head, id } = requestHead("POST", "/open-banking/payments/v4/pix/payments", { "content-type": "application/json", "content-length": "100" });
    conn.write(`${head}{"data":`);
    const outcome = await conn.closed(5_000);
    const elapsed = performance.now() - started;
    expect(outcome.responses).toHaveLength(1);
    const [answer] = outcome.responses;
    expect([answer!.status, ofbCode(answer!), answer!.headers["x-fapi-interaction-id"]]).toEqual([408, "REQUEST_TIMEOUT", id]);
    expect(isOfbError(answer!)).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
    expect(elapsed).toBeLessThan(REQUEST_TIMEOUT_MS + TOLERANCE_MS);
    expect(backend.received).toHaveLength(0);
  });
});
