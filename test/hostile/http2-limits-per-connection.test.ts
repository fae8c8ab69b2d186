import type { ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";
import { h2Close, h2Connect, h2Open, h2Outcome, h2Request } from "../helpers/h2-client.js";
import { ends, errorCode, frame, FRAME, H2_ERROR, rawH2, requestFields } from "../helpers/raw-h2.js";

// What one HTTP/2 connection may hold, each limit set by the edge (listeners[].http): its header lists
// (http.maxHeaderBytes), its streams at a time (http.http2.maxConcurrentStreams), its idle time with no stream
// (http.keepAliveTimeoutMs) and each request's time to arrive (http.requestTimeoutMs). Nothing over a limit reaches
// the backend; every other stream of the connection carries on.

const MAX_HEADER_BYTES = 4_096;
const MAX_STREAMS = 2;
const IDLE_MS = 500;
const REQUEST_MS = 700;
const ID = "3f0c2b8e-6a1d-4e5f-8b7c-9d0e1f2a3b4c";
const LATE = "7d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6";

let pki: TestPkiManifest;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
let edge: Awaited<ReturnType<typeof startTestEdge>>;
/** Responses the backend holds (paths ending in /hold) until the test releases them. */
const held: ServerResponse[] = [];
const release = () => {
  for (const res of held.splice(0)) res.end("{}");
};

beforeAll(async () => {
  pki = await testPki();
  backend = await startRecordingBackend((req, res) => {
    if (req.url.endsWith("/hold")) held.push(res);
    else res.end("{}");
  });
  const tls = { cert: pki.server.cert, key: pki.server.key, trustAnchors: [pki.trustAnchors] };
  edge = await startTestEdge({
    pki,
    upstream: backend.url,
    listeners: [
      {
        name: "mtls",
        host: "127.0.0.1",
        port: 0,
        mode: "permissive",
        tls,
        http: { maxHeaderBytes: MAX_HEADER_BYTES, keepAliveTimeoutMs: IDLE_MS, headersTimeoutMs: REQUEST_MS, requestTimeoutMs: REQUEST_MS, http2: { maxConcurrentStreams: MAX_STREAMS } },
      },
    ],
  });
});

afterAll(async () => {
  release();
  await edge?.close();
  await backend?.close();
});

const credentials = () => clientCredentials(pki, "participant-a");

describe("header lists (http.maxHeaderBytes, counted as RFC 9113 §6.5.2 counts them)", () => {
  it("over the limit: 431 in the OFB format with the interaction id; over twice the limit: the stream is reset (ENHANCE_YOUR_CALM); nothing forwarded, the connection carries on", async () => {
    const before = backend.received.length;
    const client = await rawH2(pki, edge.port, credentials());
    try {
      client.headers(1, [...requestFields("/open-banking/accounts/v2/accounts"), ["x-fapi-interaction-id", ID], ["x-padding", "a".repeat(MAX_HEADER_BYTES)]]);
      await client.waitFor(ends(1));
      expect((JSON.parse(client.body(1)) as { errors: { code: string }[] }).errors[0]!.code).toBe("REQUEST_HEADERS_TOO_LARGE");
      expect(edge.logs.filter((l) => l.kind === "access").at(-1)).toMatchObject({ status: 431, interactionId: ID, protocol: "http2" });
      client.headers(3, [...requestFields("/open-banking/accounts/v2/accounts"), ["x-padding", "a".repeat(2 * MAX_HEADER_BYTES)]]);
      const reset = await client.waitFor(ends(3));
      expect([reset.type, errorCode(reset)]).toEqual([FRAME.RST_STREAM, H2_ERROR.ENHANCE_YOUR_CALM]);
      expect(backend.received.length).toBe(before);
      client.headers(5, [...requestFields("/open-banking/accounts/v2/accounts"), ["x-fapi-interaction-id", ID]]);
      expect((await client.waitFor(ends(5))).type).toBe(FRAME.DATA);
      expect(backend.received.length).toBe(before + 1);
    } finally {
      client.close();
    }
  });

  it("announced to the client in SETTINGS_MAX_HEADER_LIST_SIZE with the other limits", async () => {
    const session = await h2Connect(pki, edge.port, credentials());
    try {
      await vi.waitFor(() => expect(session.remoteSettings.maxConcurrentStreams).toBe(MAX_STREAMS));
      expect(session.remoteSettings).toMatchObject({ maxHeaderListSize: 2 * MAX_HEADER_BYTES, enablePush: false, enableConnectProtocol: false, initialWindowSize: 65_535, maxFrameSize: 16_384, headerTableSize: 4_096 });
    } finally {
      await h2Close(session);
    }
  });
});

describe("streams at a time (http.http2.maxConcurrentStreams)", () => {
  /** Two streams the backend holds, on a raw connection. */
  async function twoHeld(acknowledge: boolean) {
    const client = await rawH2(pki, edge.port, credentials(), { acknowledge });
    for (const stream of [1, 3]) client.headers(stream, [...requestFields("/open-banking/accounts/v2/hold"), ["x-fapi-interaction-id", ID]]);
    await vi.waitFor(() => expect(held.length).toBe(2));
    return client;
  }

  it(`a stream over ${MAX_STREAMS} open ones, before the client acknowledged the limit: refused (REFUSED_STREAM), never forwarded; the others are served`, async () => {
    const before = backend.received.length;
    const client = await twoHeld(false);
    try {
      client.headers(5, [...requestFields("/open-banking/accounts/v2/accounts"), ["x-fapi-interaction-id", ID]]);
      const refused = await client.waitFor(ends(5));
      expect([refused.type, errorCode(refused)]).toEqual([FRAME.RST_STREAM, H2_ERROR.REFUSED_STREAM]);
      expect(backend.received.length).toBe(before + 2);
      release();
      for (const stream of [1, 3]) expect((await client.waitFor(ends(stream))).type).toBe(FRAME.DATA);
    } finally {
      release();
      client.close();
    }
  });

  it(`a stream over ${MAX_STREAMS} open ones after the client acknowledged the limit: the connection is closed (RFC 9113 §5.1.2), its requests in flight aborted upstream, the extra one never forwarded`, async () => {
    const before = backend.received.length;
    const client = await twoHeld(true);
    try {
      client.headers(5, [...requestFields("/open-banking/accounts/v2/accounts"), ["x-fapi-interaction-id", ID]]);
      await client.closed;
      await vi.waitFor(() => expect(held.every((res) => res.destroyed)).toBe(true));
      expect(backend.received.length).toBe(before + 2);
      expect(edge.logs.some((l) => l.kind === "http2" && l.event === "connection-error")).toBe(true);
    } finally {
      release();
      client.close();
    }
  });
});

describe("idle connections (http.keepAliveTimeoutMs)", () => {
  it("a connection that never sends a request is closed with a GOAWAY at the idle time-out, PINGs notwithstanding", async () => {
    const client = await rawH2(pki, edge.port, credentials());
    const t0 = performance.now();
    const ping = setInterval(() => client.send(frame(FRAME.PING, 0, 0, Buffer.alloc(8))), 100);
    try {
      const goaway = await client.waitFor((f) => f.type === FRAME.GOAWAY, 5_000);
      await client.closed;
      const ms = performance.now() - t0;
      expect(errorCode(goaway)).toBe(H2_ERROR.NO_ERROR);
      expect(ms).toBeGreaterThanOrEqual(IDLE_MS - 50);
      expect(ms).toBeLessThan(IDLE_MS + 1_500);
      expect(client.frames.filter((f) => f.type === FRAME.PING).length).toBeGreaterThan(0);
    } finally {
      clearInterval(ping);
      client.close();
    }
  });

  it("a connection is not idle while a stream is open: closed only once the idle time has passed after its last stream", async () => {
    const session = await h2Connect(pki, edge.port, credentials());
    try {
      const pending = h2Request(session, { path: "/open-banking/accounts/v2/hold" });
      await vi.waitFor(() => expect(held.length).toBe(1));
      await new Promise((resolve) => setTimeout(resolve, IDLE_MS * 2));
      expect(session.closed || session.destroyed).toBe(false);
      release();
      expect((await pending).status).toBe(200);
      const t0 = performance.now();
      await new Promise((resolve) => session.once("close", resolve));
      expect(performance.now() - t0).toBeGreaterThanOrEqual(IDLE_MS - 50);
    } finally {
      await h2Close(session);
    }
  });
});

describe("each request's time (http.requestTimeoutMs)", () => {
  it("a request whose body stops coming gets 408 in the OFB format on its stream; the backend gets no complete request; the connection serves on", async () => {
    const session = await h2Connect(pki, edge.port, credentials());
    try {
      const before = backend.received.length;
      const t0 = performance.now();
      const stream = h2Open(session, { method: "POST", open: true, body: '{"data":', headers: { "content-type": "application/json", "x-fapi-interaction-id": LATE } });
      const res = await h2Outcome(stream);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(REQUEST_MS - 50);
      expect(res.status).toBe(408);
      expect(res.json<{ errors: { code: string }[] }>().errors[0]!.code).toBe("REQUEST_TIMEOUT");
      expect(res.headers["x-fapi-interaction-id"]).toBe(LATE);
      await vi.waitFor(() => expect(edge.logs.filter((l) => l.kind === "access" && l.interactionId === LATE)).toEqual([expect.objectContaining({ status: 408, code: "REQUEST_TIMEOUT", protocol: "http2" })]));
      expect(backend.received.length).toBe(before);
      expect((await h2Request(session)).status).toBe(200);
    } finally {
      await h2Close(session);
    }
  });
});
