import { connect as tcpConnect, createServer, type AddressInfo, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest } from "../helpers/client.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";

/**
 * A TCP connection that never starts its TLS handshake, or sends its ClientHello a byte at a time, costs the edge a
 * socket and TLS state for as long as it lasts. Each is closed at `http.handshakeTimeoutMs`, and one source cannot
 * hold more than `http.maxHandshakesPerSource` of them at once.
 */

const HANDSHAKE_TIMEOUT_MS = 800;
const TOLERANCE_MS = 500;

let pki: TestPkiManifest;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
let clientHello: Buffer;

/** A real ClientHello, as node:tls sends it (captured by a TCP server that answers nothing). */
async function captureClientHello(): Promise<Buffer> {
  const capture = createServer();
  const hello = new Promise<Buffer>((resolve) => capture.once("connection", (s: Socket) => s.once("data", (d: Buffer) => { resolve(d); s.destroy(); })));
  await new Promise<void>((r) => capture.listen(0, "127.0.0.1", r));
  const client = tlsConnect({ host: "127.0.0.1", port: (capture.address() as AddressInfo).port, servername: "localhost", rejectUnauthorized: false });
  client.on("error", () => undefined);
  const bytes = await hello;
  client.destroy();
  capture.close();
  return bytes;
}

/** A plain TCP connection to the edge; resolves with how long it stayed open and whether the edge sent anything. */
function tcp(port: number, onConnect: (socket: Socket) => void = () => undefined) {
  const started = performance.now();
  const socket = tcpConnect(port, "127.0.0.1", () => onConnect(socket));
  let received = 0;
  socket.on("data", (d: Buffer) => (received += d.length));
  socket.on("error", () => undefined);
  const closed = new Promise<{ openMs: number; received: number }>((resolve) => socket.once("close", () => resolve({ openMs: performance.now() - started, received })));
  return { socket, closed };
}

function tlsEdge(http: Record<string, number>) {
  const tls = { cert: pki.server.cert, key: pki.server.key, trustAnchors: [pki.trustAnchors] };
  return startTestEdge({ pki, upstream: backend.url, listeners: [{ name: "mtls", host: "127.0.0.1", port: 0, mode: "permissive", tls, http }] });
}

async function counter(edge: Awaited<ReturnType<typeof startTestEdge>>, reason: string): Promise<number> {
  const metric = await edge.metrics.handshakeFailures.get();
  return metric.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

beforeAll(async () => {
  pki = await testPki();
  backend = await startRecordingBackend();
  clientHello = await captureClientHello();
});

afterAll(async () => {
  await backend?.close();
});

describe("handshake time-out (http.handshakeTimeoutMs)", () => {
  let edge: Awaited<ReturnType<typeof startTestEdge>>;
  beforeAll(async () => {
    edge = await tlsEdge({ handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS });
  });
  afterAll(async () => {
    await edge?.close();
  });

  it("an idle TCP connection is closed at the time-out, counted and logged", async () => {
    const { closed } = tcp(edge.port);
    const { openMs, received } = await closed;
    expect(received).toBe(0);
    expect(openMs).toBeGreaterThanOrEqual(HANDSHAKE_TIMEOUT_MS - 50);
    expect(openMs).toBeLessThan(HANDSHAKE_TIMEOUT_MS + TOLERANCE_MS);
    expect(await counter(edge, "ERR_TLS_HANDSHAKE_TIMEOUT")).toBeGreaterThanOrEqual(1);
    expect(edge.logs).toContainEqual(expect.objectContaining({ kind: "tls", event: "handshake-failed", code: "ERR_TLS_HANDSHAKE_TIMEOUT" }));
  });

  it("a ClientHello dribbled a byte at a time is closed at the time-out, not kept alive by its bytes", async () => {
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const { closed } = tcp(edge.port, (socket) => {
      timer = setInterval(() => sent < clientHello.length - 1 && socket.write(clientHello.subarray(sent, ++sent)), 40);
    });
    const { openMs } = await closed;
    clearInterval(timer);
    expect(sent).toBeGreaterThan(5);
    expect(sent).toBeLessThan(clientHello.length - 1);
    expect(openMs).toBeLessThan(HANDSHAKE_TIMEOUT_MS + TOLERANCE_MS);
  });

  it("a client that completes its handshake in time is served", async () => {
    const res = await httpsRequest({ pki, port: edge.port, credentials: clientCredentials(pki, "participant-a") });
    expect(res.status).toBe(200);
  });
});

describe("unfinished handshakes per source (http.maxHandshakesPerSource)", () => {
  let edge: Awaited<ReturnType<typeof startTestEdge>>;
  beforeAll(async () => {
    edge = await tlsEdge({ handshakeTimeoutMs: 10_000, maxHandshakesPerSource: 3 });
  });
  afterAll(async () => {
    await edge?.close();
  });

  it("refuses a source's connections beyond the cap at once, counts and logs them, and admits it again once its handshakes end", async () => {
    const held = [tcp(edge.port), tcp(edge.port), tcp(edge.port)];
    await vi.waitFor(() => expect(held.every((h) => h.socket.readyState === "open")).toBe(true));
    // Let the edge accept all three before the fourth arrives.
    await new Promise((r) => setTimeout(r, 100));
    const over = [tcp(edge.port), tcp(edge.port)];
    for (const o of over) expect((await o.closed).openMs).toBeLessThan(1_000);
    expect(held.every((h) => !h.socket.destroyed)).toBe(true);
    expect(await counter(edge, "TLS_HANDSHAKES_PER_SOURCE_EXCEEDED")).toBe(2);
    // One line for the burst, naming the reason and the limit.
    const lines = edge.logs.filter((l) => l.event === "connection-refused");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ kind: "tls", code: "TLS_HANDSHAKES_PER_SOURCE_EXCEEDED", remoteAddress: "127.0.0.1", unfinished: 3 });
    expect(String(lines[0]!.reason)).toContain("maxHandshakesPerSource: 3");

    for (const h of held) h.socket.destroy();
    await Promise.all(held.map((h) => h.closed));
    await vi.waitFor(async () => {
      const res = await httpsRequest({ pki, port: edge.port, credentials: clientCredentials(pki, "participant-a") });
      expect(res.status).toBe(200);
    });
  });
});
