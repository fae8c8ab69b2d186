import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { startLoad, watchReadiness, type Target } from "../../bench/drain-load.js";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { freePort, startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest } from "../helpers/client.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";
import { spawnEdge, type SpawnedEdge } from "../helpers/serve-process.js";

/**
 * SIGTERM from an orchestrator, with load on: `/readyz` turns 503 at once — from every worker, the admin port being
 * shared — while the listener keeps accepting and serving for `drainDelayMs`, each response closing its connection;
 * a load balancer that health-checks `/readyz` moves its clients to another edge; the listener then stops accepting,
 * what is in flight finishes, and the process exits within `drainTimeoutMs`. Clients that follow `Connection: close`
 * and reconnect through the balancer lose no request.
 */

const DRAIN_DELAY_MS = 2_000;
const DRAIN_TIMEOUT_MS = 6_000;
/** Process start-up of the exit, and timers firing late on a loaded machine. */
const TOLERANCE_MS = 1_000;
const HEALTH_CHECK_MS = 100;
const PATH = "/open-banking/accounts/v2/accounts";

let pki: TestPkiManifest;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
let other: Awaited<ReturnType<typeof startTestEdge>>;
let edge: SpawnedEdge | undefined;

beforeAll(async () => {
  pki = await testPki();
  // A few milliseconds per answer: there are always requests in flight when the signal comes.
  backend = await startRecordingBackend((_req, res) => setTimeout(() => res.end(JSON.stringify({ ok: true })), 5));
  other = await startTestEdge({ pki, upstream: backend.url });
});

afterEach(async () => {
  await edge?.cleanup();
  edge = undefined;
});

afterAll(async () => {
  await other?.close();
  await backend?.close();
});

/**
 * Probes the port with a TCP connection every 25 ms until one is refused (or `timeoutMs` passes): when the last
 * connection was accepted and the first refused (performance.now()).
 */
async function acceptingUntil(port: number, timeoutMs: number): Promise<{ lastAccepted: number | null; firstRefused: number | null }> {
  const end = performance.now() + timeoutMs;
  let lastAccepted: number | null = null;
  while (performance.now() < end) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(false);
      });
      socket.once("error", () => resolve(true));
    });
    if (refused) return { lastAccepted, firstRefused: performance.now() };
    lastAccepted = performance.now();
    await new Promise((r) => setTimeout(r, 25));
  }
  return { lastAccepted, firstRefused: null };
}

async function readyzStatus(adminPort: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${adminPort}/readyz`, { headers: { connection: "close" } });
  await res.arrayBuffer();
  return res.status;
}

describe.each([1, 2])("SIGTERM under keep-alive load behind a health-checking balancer, workers: %i", (workers) => {
  it("readiness turns 503 first while the listener still serves, no request is lost, and the process exits within drainTimeoutMs", async () => {
    const adminPort = await freePort();
    edge = await spawnEdge({
      listeners: [{ name: "edge", host: "127.0.0.1", port: 0, mode: "permissive", tls: { cert: pki.server.cert, key: pki.server.key, trustAnchors: [pki.trustAnchors] } }],
      routes: [{ name: "open-banking", pathPrefix: "/open-banking/", upstream: backend.url }],
      policy: { transportRoots: [pki.ca.root.cert] },
      revocation: { mode: "off" },
      admin: { host: "127.0.0.1", port: adminPort },
      drainDelayMs: DRAIN_DELAY_MS,
      drainTimeoutMs: DRAIN_TIMEOUT_MS,
      workers,
    });
    const draining: Target = { name: "draining", port: edge.port, ready: false };
    const steady: Target = { name: "steady", port: other.port, ready: true };
    const stopWatching = watchReadiness(draining, `http://127.0.0.1:${adminPort}/readyz`, HEALTH_CHECK_MS);
    const client = pki.clients["participant-a"]!;
    const tls = { ca: readFileSync(pki.trustAnchors), cert: readFileSync(client.chain), key: readFileSync(client.key), servername: "localhost" };
    await vi.waitFor(() => expect(draining.ready).toBe(true), { timeout: 5_000 });
    const load = startLoad({ targets: [draining, steady], clients: 4, tls, path: PATH });
    try {
      await vi.waitFor(() => expect(load.outcomes.filter((o) => o.target === "draining").length).toBeGreaterThan(40), { timeout: 10_000 });

      const sent = performance.now();
      edge.process.kill("SIGTERM");
      const accepting = acceptingUntil(edge.port, DRAIN_TIMEOUT_MS + TOLERANCE_MS);
      let notReady: number | undefined;
      await vi.waitFor(
        async () => {
          expect(await readyzStatus(adminPort)).toBe(503);
          notReady = performance.now();
        },
        { timeout: DRAIN_DELAY_MS, interval: 20 },
      );
      // The admin port is shared by the workers and each new connection goes to the next one: all of them say 503.
      const more = [];
      for (let i = 0; i < 4 * workers; i++) more.push(await readyzStatus(adminPort));
      const readyzDone = performance.now();
      // Not ready, yet serving: a new connection is answered, and closed after its response.
      const late = await httpsRequest({ pki, port: edge.port, credentials: clientCredentials(pki, "participant-a"), path: PATH, headers: { connection: "keep-alive" } });
      const exit = await edge.exited;
      const { lastAccepted, firstRefused } = await accepting;
      const outcomes = await load.stop();

      expect(more).toEqual(more.map(() => 503));
      expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
      expect(notReady! - sent).toBeLessThan(TOLERANCE_MS);
      // Readiness said 503 (every time asked) while the listener was still accepting and serving; it stopped accepting
      // after the delay.
      expect({ status: late.status, connection: late.headers.connection }).toEqual({ status: 200, connection: "close" });
      expect(firstRefused).not.toBeNull();
      expect(lastAccepted!).toBeGreaterThan(readyzDone);
      expect(firstRefused! - sent).toBeGreaterThanOrEqual(DRAIN_DELAY_MS - 50);
      expect(exit.at - sent).toBeLessThan(DRAIN_TIMEOUT_MS + TOLERANCE_MS);
      // After the signal the draining edge kept answering the clients it had; once every worker said 503, each answer
      // closed its connection.
      expect(outcomes.filter((o) => o.target === "draining" && o.at > sent).length).toBeGreaterThan(0);
      expect(outcomes.filter((o) => o.target === "draining" && o.at > readyzDone && o.connection !== "close")).toEqual([]);
      // Not one request failed, and the load went on through the other edge.
      expect(outcomes.filter((o) => o.error !== undefined)).toEqual([]);
      expect(outcomes.filter((o) => o.target === "steady" && o.at > exit.at).length).toBeGreaterThan(0);
      expect(edge.logs().filter((l) => l.event === "exit-forced")).toEqual([]);
      console.info(
        `workers: ${workers}: ${outcomes.length} requests, 0 failed; SIGTERM → /readyz 503 ${Math.round(notReady! - sent)} ms, → listener closed ${Math.round(firstRefused! - sent)} ms, → exit ${Math.round(exit.at - sent)} ms (drainDelayMs ${DRAIN_DELAY_MS}, drainTimeoutMs ${DRAIN_TIMEOUT_MS})`,
      );
    } finally {
      stopWatching();
      await load.stop();
    }
  });
});

describe("SIGINT (a person at a terminal)", () => {
  it("skips the delay: the listener stops accepting at once", async () => {
    edge = await spawnEdge({
      listeners: [{ name: "edge", host: "127.0.0.1", port: 0, mode: "permissive", tls: { cert: pki.server.cert, key: pki.server.key, trustAnchors: [pki.trustAnchors] } }],
      routes: [{ name: "open-banking", pathPrefix: "/open-banking/", upstream: backend.url }],
      policy: { transportRoots: [pki.ca.root.cert] },
      revocation: { mode: "off" },
      drainDelayMs: 20_000,
      drainTimeoutMs: 25_000,
      workers: 1,
    });
    const sent = performance.now();
    edge.process.kill("SIGINT");
    const exit = await edge.exited;
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(exit.at - sent).toBeLessThan(TOLERANCE_MS * 3);
  });
});
