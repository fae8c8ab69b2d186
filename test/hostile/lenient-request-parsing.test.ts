import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { startTestEdge, testPki } from "../helpers/edge.js";
import { isOfbError, ofbCode, openRaw, requestHead, type WireResponse } from "./raw-http.js";

/**
 * Requests Node's parser accepts but no backend should receive through the edge: each is refused before the
 * backend with its own status and reason code, in the OFB error format, the client's interaction id echoed.
 * Differently read requests between two hops are how requests are smuggled or paths confused.
 */

const ACCOUNTS = "/open-banking/accounts/v2/accounts";

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

/** Sends one request and returns the edge's single answer; asserts the backend received nothing. */
async function refused(bytes: string): Promise<WireResponse> {
  const before = backend.received.length;
  const conn = await openRaw(pki, edge.port);
  conn.write(bytes);
  const outcome = await conn.closed(5_000);
  expect(outcome.responses).toHaveLength(1);
  const [answer] = outcome.responses;
  expect(isOfbError(answer!)).toBe(true);
  expect(backend.received).toHaveLength(before);
  return answer!;
}

describe("lenient request parsing, refused before the backend", () => {
  it("a repeated Host (RFC 9112 §3.2) → 400 REQUEST_HOST_INVALID", async () => {
    const { head, id } = requestHead("GET", ACCOUNTS, { connection: "close" });
    const answer = await refused(head.replace("host: localhost\r\n", "host: localhost\r\nHost: evil.example\r\n"));
    expect([answer.status, ofbCode(answer), answer.headers["x-fapi-interaction-id"]]).toEqual([400, "REQUEST_HOST_INVALID", id]);
  });

  it("an HTTP/2.0 request line (RFC 9112 §2.3) → 505 REQUEST_VERSION_UNSUPPORTED, connection closed", async () => {
    const { head, id } = requestHead("GET", ACCOUNTS, {}, "HTTP/2.0");
    const answer = await refused(head);
    expect([answer.status, ofbCode(answer), answer.headers["x-fapi-interaction-id"], answer.headers.connection]).toEqual([505, "REQUEST_VERSION_UNSUPPORTED", id, "close"]);
  });

  it("an HTTP/3.0 request line, which Node's parser refuses itself → 505 REQUEST_VERSION_UNSUPPORTED", async () => {
    const { head } = requestHead("GET", ACCOUNTS, {}, "HTTP/3.0");
    const answer = await refused(head);
    expect([answer.status, ofbCode(answer)]).toEqual([505, "REQUEST_VERSION_UNSUPPORTED"]);
  });

  it("an HTTP/0.9 request line (HTTP/0.9 has no version in its request line) → 400 REQUEST_MALFORMED", async () => {
    const { head, id } = requestHead("GET", ACCOUNTS, {}, "HTTP/0.9");
    const answer = await refused(head);
    expect([answer.status, ofbCode(answer), answer.headers["x-fapi-interaction-id"]]).toEqual([400, "REQUEST_MALFORMED", id]);
  });

  it("a #fragment in the request target (RFC 9112 §3.2: not part of a target) → 400 REQUEST_PATH_INVALID", async () => {
    const { head, id } = requestHead("GET", `${ACCOUNTS}#section-2`, { connection: "close" });
    const answer = await refused(head);
    expect([answer.status, ofbCode(answer), answer.headers["x-fapi-interaction-id"]]).toEqual([400, "REQUEST_PATH_INVALID", id]);
  });

  it("TRACE (RFC 9110 §9.3.8: would reflect the identity fields the edge adds) → 405 with Allow", async () => {
    const { head, id } = requestHead("TRACE", ACCOUNTS, { connection: "close" });
    const answer = await refused(head);
    expect([answer.status, ofbCode(answer), answer.headers["x-fapi-interaction-id"]]).toEqual([405, "REQUEST_METHOD_NOT_ALLOWED", id]);
    expect(answer.headers.allow).toBe("GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
  });

  it("CONNECT (RFC 9110 §9.3.6: the edge is not a tunnel) → 405 with Allow, not a silent close", async () => {
    const { head, id } = requestHead("CONNECT", "backend.internal:443", { host: "backend.internal:443" });
    const answer = await refused(head);
    expect([answer.status, ofbCode(answer), answer.headers["x-fapi-interaction-id"], answer.headers.connection]).toEqual([405, "REQUEST_METHOD_NOT_ALLOWED", id, "close"]);
    expect(answer.headers.allow).toBe("GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
  });

  it("each refusal has its access line with the reason code", async () => {
    const { head, id } = requestHead("TRACE", ACCOUNTS, { connection: "close" });
    await refused(head);
    expect(edge.logs.filter((l) => l.kind === "access" && l.interactionId === id)).toEqual([
      expect.objectContaining({ method: "TRACE", status: 405, decision: "rejected", code: "REQUEST_METHOD_NOT_ALLOWED", stage: "http" }),
    ]);
  });
});
