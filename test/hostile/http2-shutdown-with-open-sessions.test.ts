import type { ClientHttp2Session } from "node:http2";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { clientCredentials, testPki } from "../helpers/edge.js";
import { h2Connect, h2Open, h2Outcome, h2Request } from "../helpers/h2-client.js";
import { alive, spawnEdge, type SpawnedEdge } from "../helpers/serve-process.js";

/**
 * SIGTERM with HTTP/2 connections open: each gets a GOAWAY (RFC 9113 §6.8), a request in flight that can finish does,
 * an idle connection closes at once, and a stream that never ends (an upload that stopped) is cut at
 * `drainTimeoutMs`, within which `ofb-edge serve` exits.
 */

const DRAIN_TIMEOUT_MS = 3_000;
/** Process start-up of the exit, and timers firing late on a loaded machine. */
const TOLERANCE_MS = 800;
const ACCOUNTS = "/open-banking/accounts/v2";

let pki: TestPkiManifest;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
let edge: SpawnedEdge | undefined;
const sessions: ClientHttp2Session[] = [];

beforeAll(async () => {
  pki = await testPki();
  backend = await startRecordingBackend((req, res) => {
    setTimeout(() => res.end(JSON.stringify({ ok: true })), req.url.endsWith("/slow") ? 800 : 0);
  });
});

afterEach(async () => {
  for (const s of sessions.splice(0)) s.destroy();
  await edge?.cleanup();
  edge = undefined;
});

afterAll(async () => {
  await backend?.close();
});

function config(workers: number) {
  return {
    listeners: [
      {
        name: "mtls",
        host: "127.0.0.1",
        port: 0,
        mode: "permissive",
        tls: { cert: pki.server.cert, key: pki.server.key, trustAnchors: [pki.trustAnchors] },
        // Nothing times out by itself during the test: shutdown has to end every connection.
        http: { handshakeTimeoutMs: 60_000, headersTimeoutMs: 60_000, requestTimeoutMs: 60_000, keepAliveTimeoutMs: 60_000 },
      },
    ],
    routes: [{ name: "open-banking", pathPrefix: "/open-banking/", upstream: backend.url }],
    policy: { transportRoots: [pki.ca.root.cert] },
    drainTimeoutMs: DRAIN_TIMEOUT_MS,
    workers,
    log: { level: "info" },
  };
}

async function connect(port: number): Promise<{ session: ClientHttp2Session; goaway: Promise<number> }> {
  const session = await h2Connect(pki, port, clientCredentials(pki, "participant-a"));
  sessions.push(session);
  const goaway = new Promise<number>((resolve) => session.once("goaway", (code: number) => resolve(code)));
  return { session, goaway };
}

describe.each([1, 2])("SIGTERM with HTTP/2 connections open, workers: %i", (workers) => {
  it("GOAWAY on every connection; the request in flight finishes, the idle connection closes, the stalled upload is cut; exit 0 within drainTimeoutMs", async () => {
    edge = await spawnEdge(config(workers));
    const { port } = edge;
    const before = backend.received.length;
    const busy = await connect(port);
    const idle = await connect(port);
    const stalled = await connect(port);
    // One answered request each, so that each connection is an established HTTP/2 session of a worker.
    for (const c of [busy, idle, stalled]) expect((await h2Request(c.session, { path: `${ACCOUNTS}/accounts` })).status).toBe(200);
    const finishing = h2Outcome(h2Open(busy.session, { path: `${ACCOUNTS}/slow` }));
    const upload = h2Open(stalled.session, { method: "POST", path: `${ACCOUNTS}/upload`, open: true, body: "{" });
    const cut = h2Outcome(upload).then(
      () => "answered",
      () => "cut",
    );
    await vi.waitFor(() => expect(backend.received.slice(before).some((r) => r.url.endsWith("/slow"))).toBe(true), { timeout: 5_000 });
    const workerPids = edge.workers;

    const sent = performance.now();
    edge.process.kill("SIGTERM");
    expect(await Promise.all([busy.goaway, idle.goaway, stalled.goaway])).toEqual([0, 0, 0]);
    const exit = await edge.exited;
    const took = exit.at - sent;
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(took).toBeLessThan(DRAIN_TIMEOUT_MS + TOLERANCE_MS);
    for (const pid of workerPids) expect(alive(pid), `worker ${pid}`).toBe(false);

    expect((await finishing).status).toBe(200);
    expect(await cut).toBe("cut");
    await vi.waitFor(() => expect(idle.session.closed || idle.session.destroyed).toBe(true));
    // The upload never completed: the backend never received it.
    expect(backend.received.slice(before).some((r) => r.url.endsWith("/upload"))).toBe(false);
    expect(edge.logs().filter((l) => l.event === "exit-forced")).toEqual([]);
  });
});
