import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";
import { errorCode, ends, FLAG, frame, FRAME, H2_ERROR, rawH2, requestFields, type RawH2 } from "../helpers/raw-h2.js";

// What HTTP/2 forbids in a request never reaches the backend, and the connection's other streams carry on.
// RFC 9113 §8.1.1: a malformed request is a stream error of type PROTOCOL_ERROR; nghttp2 resets most of them
// before the edge sees them (connection-specific fields §8.2.2, upper-case names §8.2, pseudo-header misuse §8.3).
// What reaches the edge is answered in the OFB format (the server "MAY send an HTTP response prior to closing or
// resetting the stream") and the stream closed.

const PATH = "/.well-known/openid-configuration";
const ID = "3f0c2b8e-6a1d-4e5f-8b7c-9d0e1f2a3b4c";

let pki: TestPkiManifest;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
let edge: Awaited<ReturnType<typeof startTestEdge>>;
let client: RawH2;
let next = 1;

beforeAll(async () => {
  pki = await testPki();
  backend = await startRecordingBackend();
  edge = await startTestEdge({ pki, upstream: backend.url });
  client = await rawH2(pki, edge.port, clientCredentials(pki, "participant-a"));
});

afterAll(async () => {
  client?.close();
  await edge?.close();
  await backend?.close();
});

/** Sends a request on the next stream; resolves with the frame that ended it and the DATA it carried. */
async function send(fields: [string, string][], o: { open?: boolean } = {}): Promise<{ end: number; code: number | null; body: string }> {
  const stream = (next += 2);
  client.headers(stream, fields, o);
  const last = await client.waitFor(ends(stream));
  return { end: last.type, code: last.type === FRAME.RST_STREAM ? errorCode(last) : null, body: client.body(stream) };
}

describe("reset by the HTTP/2 layer (PROTOCOL_ERROR), never forwarded", () => {
  it.each([
    ["Connection", ["connection", "keep-alive"]],
    ["Keep-Alive", ["keep-alive", "timeout=5"]],
    ["Proxy-Connection", ["proxy-connection", "keep-alive"]],
    ["Transfer-Encoding", ["transfer-encoding", "chunked"]],
    ["Upgrade", ["upgrade", "websocket"]],
    ["TE other than trailers", ["te", "gzip"]],
    ["an upper-case field name", ["X-Client-Cert", "forged"]],
    ["an unknown pseudo-header field", [":client-cert", "forged"]],
    ["a repeated :path", [":path", "/open-banking/payments/v4/pix/payments"]],
  ] as const)("%s", async (_what, field) => {
    const before = backend.received.length;
    const got = await send([...requestFields(PATH), [field[0], field[1]]]);
    expect([got.end, got.code]).toEqual([FRAME.RST_STREAM, H2_ERROR.PROTOCOL_ERROR]);
    expect(backend.received.length).toBe(before);
  });

  it("two Host fields", async () => {
    const before = backend.received.length;
    const got = await send([...requestFields(PATH), ["host", "localhost"], ["host", "evil.example"]]);
    expect([got.end, got.code]).toEqual([FRAME.RST_STREAM, H2_ERROR.PROTOCOL_ERROR]);
    expect(backend.received.length).toBe(before);
  });

  it("a Content-Length the data does not match (request smuggling towards an HTTP/1.1 backend)", async () => {
    const before = backend.received.length;
    const stream = (next += 2);
    client.headers(stream, [...requestFields("/open-banking/accounts/v2/accounts", "POST"), ["x-fapi-interaction-id", ID], ["content-length", "10"]], { open: true });
    client.send(frame(FRAME.DATA, FLAG.END_STREAM, stream, Buffer.from("abc")));
    const last = await client.waitFor(ends(stream));
    expect([last.type, errorCode(last)]).toEqual([FRAME.RST_STREAM, H2_ERROR.PROTOCOL_ERROR]);
    expect(backend.received.length).toBe(before);
  });

  it("a pseudo-header field after a regular field", async () => {
    const before = backend.received.length;
    const [method, scheme, path, authority] = requestFields(PATH);
    const got = await send([method!, scheme!, ["x-fapi-interaction-id", ID], path!, authority!]);
    expect([got.end, got.code]).toEqual([FRAME.RST_STREAM, H2_ERROR.PROTOCOL_ERROR]);
    expect(backend.received.length).toBe(before);
  });
});

describe("dropped by the HTTP/2 layer: a field value HTTP/2 forbids (RFC 9113 §8.2.1) never reaches the backend", () => {
  it.each([
    ["CR LF (header injection towards an HTTP/1.1 backend)", "a\r\nclient-cert: :Zm9yZ2Vk:"],
    ["NUL", "a\0b"],
    ["a leading space", " padded"],
    ["a trailing tab", "padded\t"],
  ])("%s", async (_what, value) => {
    const before = backend.received.length;
    const got = await send([...requestFields(PATH), ["x-fapi-interaction-id", ID], ["x-note", value]]);
    expect(got.end).toBe(FRAME.DATA);
    expect(backend.received.length).toBe(before + 1);
    const forwarded = backend.received.at(-1)!;
    expect(forwarded.headers["x-note"]).toBeUndefined();
    expect(forwarded.rawHeaders.join("\n")).not.toContain("Zm9yZ2Vk");
  });
});

describe("answered by the edge in the OFB format, never forwarded", () => {
  const cases: [what: string, fields: [string, string][], code: string][] = [
    ["a Host other than :authority", [...requestFields(PATH), ["host", "evil.example"]], "REQUEST_HOST_INVALID"],
    ["a TRACE", requestFields(PATH, "TRACE"), "REQUEST_METHOD_NOT_ALLOWED"],
    ["a CONNECT (RFC 9113 §8.5: a tunnel the edge does not open)", [[":method", "CONNECT"], [":authority", "backend.internal:443"]], "REQUEST_METHOD_NOT_ALLOWED"],
    ["a backslash in :path", requestFields("/.well-known\\..\\open-banking/x"), "REQUEST_PATH_INVALID"],
  ];
  it.each(cases)("%s", async (_what, request, code) => {
    const before = backend.received.length;
    const fields: [string, string][] = [...request, ["x-fapi-interaction-id", ID]];
    const got = await send(fields);
    const body = JSON.parse(got.body) as { errors: { code: string }[] };
    expect(body.errors[0]!.code).toBe(code);
    expect(backend.received.length).toBe(before);
    const access = edge.logs.filter((l) => l.kind === "access").at(-1);
    expect(access).toMatchObject({ code, interactionId: ID, protocol: "http2", decision: "rejected" });
  });

  it("a :scheme of http on the TLS connection", async () => {
    const before = backend.received.length;
    const got = await send([[":method", "GET"], [":scheme", "http"], [":path", PATH], [":authority", "localhost"]]);
    expect((JSON.parse(got.body) as { errors: { code: string }[] }).errors[0]!.code).toBe("REQUEST_MALFORMED");
    expect(backend.received.length).toBe(before);
  });

  it("a malformed request whose body is still coming: answered, then its stream reset with PROTOCOL_ERROR", async () => {
    const before = backend.received.length;
    const got = await send([...requestFields("/open-banking/accounts/v2/accounts", "POST"), ["host", "evil.example"]], { open: true });
    expect([got.end, got.code]).toEqual([FRAME.RST_STREAM, H2_ERROR.PROTOCOL_ERROR]);
    expect((JSON.parse(got.body) as { errors: { code: string }[] }).errors[0]!.code).toBe("REQUEST_HOST_INVALID");
    expect(backend.received.length).toBe(before);
  });
});

describe("the connection survives its refused streams", () => {
  it("a well-formed request afterwards is served on the same connection", async () => {
    const before = backend.received.length;
    const got = await send([...requestFields(PATH), ["x-fapi-interaction-id", ID]]);
    expect(got.end).toBe(FRAME.DATA);
    expect(backend.received.length).toBe(before + 1);
    expect(client.frames.some((f) => f.type === FRAME.GOAWAY)).toBe(false);
  });
});
