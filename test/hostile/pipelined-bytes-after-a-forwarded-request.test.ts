import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { startTestEdge, testPki } from "../helpers/edge.js";
import { isOfbError, ofbCode, openRaw, requestHead } from "./raw-http.js";

/**
 * A response the backend produced is always delivered, in order, before any answer to bytes that follow the request
 * on the same connection (RFC 9112 §9.3); the access log records what the client received. Without this, a
 * payment the backend executed reaches the client as a 400, and the client retries it: the payment is made twice.
 */

const PAYMENTS = "/open-banking/payments/v4/pix/payments";

let pki: TestPkiManifest;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
let edge: Awaited<ReturnType<typeof startTestEdge>>;

beforeAll(async () => {
  pki = await testPki();
  // A backend that takes a moment to execute the payment, so the trailing bytes are read while it works.
  backend = await startRecordingBackend((req, res) => {
    setTimeout(() => {
      res.writeHead(201, { "content-type": "application/json" });
      res.end(JSON.stringify({ data: { paymentId: "p-1", received: req.body.toString("utf8") } }));
    }, 150);
  });
  edge = await startTestEdge({ pki, upstream: backend.url });
});

afterAll(async () => {
  await edge?.close();
  await backend?.close();
});

beforeEach(() => {
  backend.received.length = 0;
});

function payment(fields: Record<string, string> = {}, version?: string) {
  return requestHead("POST", PAYMENTS, { "content-type": "application/json", "content-length": "2", ...fields }, version);
}

function accessLines(id: string) {
  return edge.logs.filter((l) => l.kind === "access" && l.interactionId === id);
}

describe("a forwarded payment followed by more bytes on the same connection", () => {
  it("garbage after the body: the client gets the backend's 201 first, then a 400 in the OFB format", async () => {
    const conn = await openRaw(pki, edge.port);
    const { head, id } = payment();
    conn.write(`${head}{}XYZ\r\n\r\n`);
    const outcome = await conn.closed();
    expect(backend.received.map((r) => r.headers["x-fapi-interaction-id"])).toEqual([id]);
    expect(outcome.responses.map((r) => r.status)).toEqual([201, 400]);
    const [paid, refused] = outcome.responses;
    expect(paid!.headers["x-fapi-interaction-id"]).toBe(id);
    expect(JSON.parse(paid!.body)).toMatchObject({ data: { paymentId: "p-1", received: "{}" } });
    expect(isOfbError(refused!)).toBe(true);
    expect(ofbCode(refused!)).toBe("REQUEST_MALFORMED");
    expect(refused!.headers.connection).toBe("close");
    // The access log says what the client received: the payment forwarded with its 201, then the refusal.
    expect(accessLines(id)).toEqual([expect.objectContaining({ status: 201, decision: "forwarded" })]);
    const refusedLine = edge.logs.find((l) => l.kind === "access" && l.interactionId === refused!.headers["x-fapi-interaction-id"]);
    expect(refusedLine).toMatchObject({ status: 400, decision: "rejected", code: "REQUEST_MALFORMED" });
  });

  it("one extra byte after a `Connection: close` request: the client gets the 201 and the connection closes", async () => {
    const conn = await openRaw(pki, edge.port);
    const { head, id } = payment({ connection: "close" });
    conn.write(`${head}{}X`);
    const outcome = await conn.closed();
    expect(backend.received).toHaveLength(1);
    expect(outcome.responses.map((r) => r.status)).toEqual([201]);
    expect(outcome.responses[0]!.headers["x-fapi-interaction-id"]).toBe(id);
    expect(outcome.leftover).toBe("");
    expect(accessLines(id)).toEqual([expect.objectContaining({ status: 201, decision: "forwarded" })]);
  });

  it("an HTTP/1.0 request with trailing bytes: the client gets the 201 and the connection closes", async () => {
    const conn = await openRaw(pki, edge.port);
    const { head, id } = payment({}, "HTTP/1.0");
    conn.write(`${head}{}trailing bytes\r\n\r\n`);
    const outcome = await conn.closed();
    expect(backend.received).toHaveLength(1);
    expect(outcome.responses.map((r) => r.status)).toEqual([201]);
    expect(outcome.responses[0]!.headers["x-fapi-interaction-id"]).toBe(id);
    expect(accessLines(id)).toEqual([expect.objectContaining({ status: 201, decision: "forwarded" })]);
  });

  it("two pipelined payments then garbage: both answers, in order, then the 400", async () => {
    const conn = await openRaw(pki, edge.port);
    const first = payment();
    const second = payment();
    conn.write(`${first.head}{}${second.head}{}GARBAGE\r\n\r\n`);
    const outcome = await conn.closed();
    expect(backend.received).toHaveLength(2);
    expect(outcome.responses.map((r) => [r.status, r.headers["x-fapi-interaction-id"]])).toEqual([
      [201, first.id],
      [201, second.id],
      [400, expect.any(String)],
    ]);
  });

  it("a request pipelined after one whose answer closes the connection is not forwarded (RFC 9112 §9.6)", async () => {
    const conn = await openRaw(pki, edge.port);
    // A rejected upload is answered without reading its body, so its answer closes the connection.
    const unrouted = requestHead("PUT", "/not-routed", { "content-length": "7" });
    const second = payment();
    conn.write(`${unrouted.head}1234567${second.head}{}`);
    const outcome = await conn.closed();
    expect(outcome.responses.map((r) => [r.status, r.headers["x-fapi-interaction-id"], r.headers.connection])).toEqual([[404, unrouted.id, "close"]]);
    // The payment was never processed: the backend did not execute what the client never got an answer to.
    expect(backend.received).toHaveLength(0);
    expect(accessLines(second.id)).toEqual([]);
  });

  it("a client that half-closes after its request still receives the backend's answer", async () => {
    const conn = await openRaw(pki, edge.port);
    const { head, id } = payment();
    conn.socket.end(`${head}{}`);
    const outcome = await conn.closed();
    expect(backend.received).toHaveLength(1);
    expect(outcome.responses.map((r) => [r.status, r.headers["x-fapi-interaction-id"]])).toEqual([[201, id]]);
  });

  it("a chunked body that turns into garbage mid-request: 400 in the OFB format with the client's interaction id, nothing executed", async () => {
    const conn = await openRaw(pki, edge.port);
    const { head, id } = requestHead("POST", PAYMENTS, { "content-type": "application/json", "transfer-encoding": "chunked" });
    conn.write(`${head}2\r\n{}\r\nZZZ-not-a-chunk-size\r\n\r\n`);
    const outcome = await conn.closed();
    expect(outcome.responses).toHaveLength(1);
    const [refused] = outcome.responses;
    expect(refused!.status).toBe(400);
    expect(isOfbError(refused!)).toBe(true);
    expect(ofbCode(refused!)).toBe("REQUEST_MALFORMED");
    expect(refused!.headers["x-fapi-interaction-id"]).toBe(id);
    expect(backend.received).toHaveLength(0);
    // The pipeline finishes (it sees a closed connection) after the answer; its access line records the 400.
    await vi.waitFor(() => expect(accessLines(id)).toEqual([expect.objectContaining({ status: 400, decision: "rejected", code: "REQUEST_MALFORMED" })]));
  });
});
