import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { Agent } from "node:https";
import { connect as tcpConnect, type Socket } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { startMockDirectory, type MockDirectory } from "../../src/directory/mock.js";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { openHttpsRequest } from "../helpers/open-request.js";
import { clientCredentials, testPki } from "../helpers/edge.js";
import { deletePrefix, redisUrl, uniquePrefix } from "../helpers/redis.js";
import { alive, spawnEdge, type SpawnedEdge } from "../helpers/serve-process.js";

/**
 * SIGTERM ends `ofb-edge serve` within `drainTimeoutMs` whatever its peers do: a TCP connection that never starts
 * its handshake, a TLS connection the client half-closed, a request header that never ends, a renegotiation probe,
 * an idle keep-alive connection, a backend that never answers, and Redis subscriptions (deny list, Directory store)
 * and the Directory sync loop. Requests in flight that can finish in time do, with `Connection: close`.
 */

const DRAIN_TIMEOUT_MS = 3_000;
/** Process start-up of the exit, and timers firing late on a loaded machine. */
const TOLERANCE_MS = 800;
const ACCOUNTS = "/open-banking/accounts/v2";

let pki: TestPkiManifest;
let mock: MockDirectory;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
const prefixes: string[] = [];
let edge: SpawnedEdge | undefined;
const peers: (Socket | TLSSocket)[] = [];

beforeAll(async () => {
  pki = await testPki();
  mock = await startMockDirectory({ fixtureDir: pki.directory.participants.replace(/participants\.json$/, "") });
  backend = await startRecordingBackend((req, res) => {
    if (req.url.endsWith("/hang")) return;
    setTimeout(() => res.end(JSON.stringify({ ok: true })), req.url.endsWith("/slow") ? 800 : 0);
  });
});

afterEach(async () => {
  for (const p of peers.splice(0)) p.destroy();
  await edge?.cleanup();
  edge = undefined;
});

afterAll(async () => {
  await backend?.close();
  await mock?.close();
  for (const p of prefixes) await deletePrefix(redisUrl(), p);
});

function config(workers: number) {
  const prefix = uniquePrefix();
  prefixes.push(prefix);
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
    directory: { participantsUrl: mock.participantsUrl, keystoreUrl: mock.keystoreUrl, store: { type: "redis", url: redisUrl(), keyPrefix: prefix }, refreshIntervalMs: 10_000 },
    denyList: { url: redisUrl(), keyPrefix: prefix },
    drainTimeoutMs: DRAIN_TIMEOUT_MS,
    workers,
    log: { level: "info" },
  };
}

const tlsOptions = (port: number) => ({ host: "127.0.0.1", port, servername: "localhost", ca: readFileSync(pki.trustAnchors), ...clientCredentials(pki, "participant-a") });

function secured<T extends TLSSocket>(socket: T): Promise<T> {
  peers.push(socket);
  socket.on("error", () => undefined);
  return new Promise((resolve) => socket.once("secureConnect", () => resolve(socket)));
}

/** Every kind of peer that has kept an edge from exiting, connected to `port`. */
async function stubbornPeers(port: number): Promise<void> {
  // A TCP connection that never sends its ClientHello.
  const idle = tcpConnect(port, "127.0.0.1");
  idle.on("error", () => undefined);
  peers.push(idle);
  // A TLS connection the client half-closed and never closes (a socket left half-open).
  const halfOpen = await secured(tlsConnect({ ...tlsOptions(port), ...({ allowHalfOpen: true } as object) }));
  halfOpen.end();
  // A request header that never ends.
  const slow = await secured(tlsConnect(tlsOptions(port)));
  slow.write(`GET ${ACCOUNTS}/accounts HTTP/1.1\r\nHost: localhost\r\nx-fapi-interaction-id: ${randomUUID()}\r\n`);
  // A renegotiation probe (TLS 1.2), then silence.
  const probe = await secured(tlsConnect({ ...tlsOptions(port), maxVersion: "TLSv1.2" }));
  probe.renegotiate({ rejectUnauthorized: false }, () => undefined);
  // An idle keep-alive connection after one answered request.
  const kept = await secured(tlsConnect(tlsOptions(port)));
  kept.write(`GET ${ACCOUNTS}/accounts HTTP/1.1\r\nHost: localhost\r\nx-fapi-interaction-id: ${randomUUID()}\r\n\r\n`);
  await new Promise((resolve) => kept.once("data", resolve));
}

describe.each([1, 2])("SIGTERM with stubborn peers, workers: %i", (workers) => {
  it("exits with 0 within drainTimeoutMs; a request that can finish does, with Connection: close; one to a silent backend is cut", async () => {
    edge = await spawnEdge(config(workers));
    const { port } = edge;
    await stubbornPeers(port);
    const credentials = clientCredentials(pki, "participant-a");
    const before = backend.received.length;
    // A keep-alive client: the `Connection: close` it gets is the draining edge's.
    const keepAlive = new Agent({ keepAlive: true });
    const finishing = openHttpsRequest({ pki, port, credentials, path: `${ACCOUNTS}/slow`, agent: keepAlive, headers: { connection: "keep-alive" } });
    finishing.req.end();
    const cut = openHttpsRequest({ pki, port, credentials, path: `${ACCOUNTS}/hang`, agent: false });
    cut.req.end();
    // Both requests are with the backend (the slow one answers 800 ms after it arrived).
    await vi.waitFor(() => expect(backend.received.slice(before).map((r) => r.url.split("/").at(-1)).sort()).toEqual(["hang", "slow"]), { timeout: 5_000 });
    const workerPids = edge.workers;
    expect(workerPids).toHaveLength(workers === 1 ? 0 : workers);

    const sent = performance.now();
    edge.process.kill("SIGTERM");
    const exit = await edge.exited;
    const took = exit.at - sent;
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(took).toBeLessThan(DRAIN_TIMEOUT_MS + TOLERANCE_MS);
    for (const pid of workerPids) expect(alive(pid), `worker ${pid}`).toBe(false);

    const done = await finishing.outcome;
    keepAlive.destroy();
    expect(done.status).toBe(200);
    expect(done.headers.connection).toBe("close");
    expect((await cut.outcome).status).toBeNull();
    // Nothing had to be forced: every socket, timer and subscription was closed.
    expect(edge.logs().filter((l) => l.event === "exit-forced")).toEqual([]);
    console.info(`workers: ${workers}: SIGTERM to exit ${Math.round(took)} ms (drainTimeoutMs ${DRAIN_TIMEOUT_MS})`);
  });
});

describe("a worker does not outlive its primary", () => {
  it("the primary killed outright: its workers shut down on their own within drainTimeoutMs", async () => {
    edge = await spawnEdge(config(2));
    await stubbornPeers(edge.port);
    const workerPids = edge.workers;
    expect(workerPids).toHaveLength(2);
    const killed = performance.now();
    edge.process.kill("SIGKILL");
    await vi.waitFor(() => expect(workerPids.filter(alive)).toEqual([]), { timeout: DRAIN_TIMEOUT_MS + TOLERANCE_MS, interval: 50 });
    expect(performance.now() - killed).toBeLessThan(DRAIN_TIMEOUT_MS + TOLERANCE_MS);
  });
});
