import { readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseParticipants } from "../../src/directory/document.js";
import { startMockDirectory, type MockDirectory } from "../../src/directory/mock.js";
import { createRedisStore } from "../../src/directory/redis-store.js";
import type { DirectoryStore, Organisation } from "../../src/directory/types.js";
import { openRedisDenyList, type DenyList } from "../../src/deny/deny-list.js";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest } from "../helpers/client.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";
import { snapshot, sleep, uniquePrefix, until } from "../helpers/redis.js";
import { startRedisSentinel, type RedisSentinelUnderTest } from "../helpers/redis-sentinel.js";
import { keepAliveClient } from "../helpers/tls-probe.js";

/**
 * A Sentinel failover while a real edge (Redis Directory store and deny list, behind a Sentinel-managed primary
 * and replica) serves steady load: what is lost, and how long until Redis works for the edge again. Another
 * replica's Directory sync publishes every 200 ms — far more often than the Directory changes — so the edge's
 * connections keep re-checking their participant against Redis. It pauses for the moment of the kill: a snapshot
 * adopted in the last milliseconds before Redis goes away leaves nothing in the in-process cache, and lookups then
 * fail closed until Redis is back (the store's rule, unchanged); with the Directory changing every few minutes
 * that coincidence is not the case measured here. The figures are written as JSON to the file named by
 * OFB_EDGE_FAILOVER_FIGURES when it is set (nothing is printed).
 */

const ACCOUNTS = "/open-banking/accounts/v2/accounts";
/** participant-c has only the PAGTO role. */
const PAYMENTS = "/open-banking/payments/v4/pix/payments";
/** Concurrent request loops: four on keep-alive connections, two opening a new TLS connection per request. */
const KEEP_ALIVE_LOOPS = 4;
const NEW_CONNECTION_LOOPS = 2;
const CHURN_MS = 200;

let pki: TestPkiManifest;
let mock: MockDirectory;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
let organisations: readonly Organisation[];
const figures: Record<string, unknown> = {};

beforeAll(async () => {
  pki = await testPki();
  [mock, backend] = await Promise.all([startMockDirectory({ fixtureDir: dirname(pki.directory.participants) }), startRecordingBackend()]);
  organisations = parseParticipants(JSON.parse(readFileSync(pki.directory.participants, "utf8")));
});

afterAll(async () => {
  await mock?.close();
  await backend?.close();
  if (process.env.OFB_EDGE_FAILOVER_FIGURES) writeFileSync(process.env.OFB_EDGE_FAILOVER_FIGURES, `${JSON.stringify(figures, null, 2)}\n`);
});

/** One request's fate: when it started and ended (ms since the test's origin) and its status (0: no response). */
interface Outcome {
  readonly start: number;
  readonly end: number;
  readonly status: number;
}

async function edgeOn(sentinel: RedisSentinelUnderTest, keyPrefix: string) {
  return startTestEdge({
    pki,
    upstream: backend.url,
    admin: { host: "127.0.0.1", port: 0 },
    redis: { mode: "sentinel", sentinels: sentinel.target.mode === "sentinel" ? [...sentinel.target.sentinels] : [], name: sentinel.name, connectTimeoutMs: 1_000 },
    directory: { participantsUrl: mock.participantsUrl, keystoreUrl: mock.keystoreUrl, store: { type: "redis", keyPrefix } },
    denyList: { keyPrefix },
  });
}

describe("Sentinel failover under load", () => {
  it("the primary dies: nothing is lost but requests in flight, and the edge's Redis users are back within seconds of the promotion", async () => {
    const sentinel = await startRedisSentinel();
    const keyPrefix = uniquePrefix();
    const edge = await edgeOn(sentinel, keyPrefix);
    // Another replica: it runs the Directory sync (publishing) and an operator's `ofb-edge deny add`.
    const other: DirectoryStore = await createRedisStore({ redis: sentinel.target, keyPrefix });
    const writer: DenyList = await openRedisDenyList({ redis: sentinel.target, keyPrefix, connectTimeoutMs: 5_000, subscribe: false });
    const origin = performance.now();
    const now = () => performance.now() - origin;
    const outcomes: Outcome[] = [];
    let loading = true;
    const keptAlive = Array.from({ length: KEEP_ALIVE_LOOPS }, (_, i) => keepAliveClient(pki, edge.port, clientCredentials(pki, i % 2 ? "participant-b" : "participant-a")));
    async function loop(send: () => Promise<number>): Promise<void> {
      while (loading) {
        const start = now();
        const status = await send().catch(() => 0);
        outcomes.push({ start, end: now(), status });
      }
    }
    let churn = 0;
    let paused = false;
    const published: { version: string; at: number }[] = [];
    const publishFailures: number[] = [];
    async function sync(): Promise<void> {
      while (loading) {
        if (paused) {
          await sleep(10);
          continue;
        }
        const version = `churn-${++churn}`;
        try {
          await other.publish(snapshot(version, organisations, Date.now()));
          published.push({ version, at: now() });
        } catch {
          publishFailures.push(now());
        }
        await sleep(CHURN_MS);
      }
    }
    const ready = () => fetch(`http://127.0.0.1:${edge.edge.adminPort}/readyz`).then((r) => r.status, () => 0);
    let probesAnswered = 0;
    const probe = () =>
      httpsRequest({ pki, port: edge.port, credentials: clientCredentials(pki, "participant-c"), path: PAYMENTS }).then((r) => {
        if (r.status === 200) probesAnswered++;
        return { status: r.status, code: r.status === 401 ? r.json<{ errors: { code: string }[] }>().errors[0]!.code : null };
      });
    const receivedBefore = backend.received.length;
    try {
      expect(await ready()).toBe(200);
      expect((await probe()).status).toBe(200);
      const load = [
        ...keptAlive.map((c) => loop(() => c.get(ACCOUNTS).then((r) => r.status))),
        ...Array.from({ length: NEW_CONNECTION_LOOPS }, (_, i) =>
          loop(() => httpsRequest({ pki, port: edge.port, credentials: clientCredentials(pki, i % 2 ? "participant-b" : "participant-a"), path: ACCOUNTS }).then((r) => r.status)),
        ),
        sync(),
      ];
      await sleep(1_000);
      paused = true;
      await sleep(CHURN_MS + 100);

      const primary = await sentinel.primary();
      await primary.kill();
      const killedAt = now();
      paused = false;
      const failover = sentinel.promotedFrom(primary).then(() => now());
      const readiness: { at: number; status: number }[] = [];
      const watchReady = (async () => {
        while (loading) {
          readiness.push({ at: now(), status: await ready() });
          await sleep(20);
        }
      })();
      // The operator denies participant-c as soon as Redis takes writes again.
      const entry = { kind: "thumbprint", value: pki.clients["participant-c"]!.thumbprint, reason: "failover test", addedAt: new Date().toISOString(), expiresAt: null } as const;
      await until(10_000, "the operator's deny add goes through", () => writer.add(entry).then(() => true));
      const deniedAt = now();
      await until(5_000, "the edge applies the deny entry", async () => (await probe()).code === "CERT_DENIED");
      const denyAppliedAt = now();
      const promotionMs = (await failover) - killedAt;
      const firstAfter = () => published.find((p) => p.at > killedAt);
      await until(10_000, "the sync publishes again and the edge adopts it", async () => {
        const p = firstAfter();
        return p !== undefined && edge.edge.directory!.store.current()?.version === p.version;
      });
      const directoryHeardAt = now();
      await until(5_000, "/readyz is 200 again", async () => readiness.at(-1)?.status === 200);
      const notReady = readiness.findIndex((r) => r.status !== 200);
      const readyAgainAt = notReady < 0 ? killedAt : readiness.slice(notReady).find((r) => r.status === 200)!.at;
      const recoveredAt = Math.max(denyAppliedAt, directoryHeardAt, readyAgainAt);
      await sleep(1_000);
      loading = false;
      await Promise.all([...load, watchReady]);

      const failed = outcomes.filter((o) => o.status !== 200);
      const answered = outcomes.filter((o) => o.status === 200);
      Object.assign(figures, {
        killed: {
          requests: outcomes.length,
          requestsPerSecond: Math.round(outcomes.length / ((outcomes.at(-1)!.end - outcomes[0]!.start) / 1000)),
          inFlightAtKill: outcomes.filter((o) => o.start <= killedAt && o.end >= killedAt).length,
          failedStartedAfterKill: failed.filter((o) => o.start > killedAt).length,
          lost: failed.map((o) => ({ status: o.status, startMsAfterKill: Math.round(o.start - killedAt), endMsAfterKill: Math.round(o.end - killedAt) })),
          sentinelPromotionMsAfterKill: Math.round(promotionMs),
          denyWriteOkMsAfterKill: Math.round(deniedAt - killedAt),
          denyAppliedMsAfterKill: Math.round(denyAppliedAt - killedAt),
          syncPublishOkMsAfterKill: Math.round(firstAfter()!.at - killedAt),
          edgeAdoptedPublishMsAfterKill: Math.round(directoryHeardAt - killedAt),
          readyzNotReadyMs: Math.round(readyAgainAt - killedAt),
          publishesRefused: publishFailures.filter((f) => f > killedAt).length,
        },
      });
      // At most the requests in flight when the primary died may fail (closed), none after Redis is back.
      expect(failed.length).toBeLessThanOrEqual(KEEP_ALIVE_LOOPS + NEW_CONNECTION_LOOPS);
      for (const f of failed) expect(f.start).toBeLessThanOrEqual(recoveredAt);
      // Every 200 reached the backend once; nothing refused did.
      expect(backend.received.length - receivedBefore).toBe(answered.length + probesAnswered);
      // Redis is back for every user within seconds of the promotion (reconnect back-off ≤ 1 s, plus asking the Sentinel).
      expect(promotionMs).toBeLessThan(8_000);
      for (const at of [deniedAt, denyAppliedAt, directoryHeardAt, readyAgainAt]) expect(at - killedAt).toBeLessThan(promotionMs + 3_000);
    } finally {
      loading = false;
      for (const c of keptAlive) c.close();
      await writer.close();
      await other.close();
      await edge.close();
      await sentinel.stop();
    }
  }, 60_000);

  it("the primary hangs (SIGSTOP): the edge follows the Sentinel's switch instead of waiting on it, and loses nothing", async () => {
    const sentinel = await startRedisSentinel();
    const keyPrefix = uniquePrefix();
    const edge = await edgeOn(sentinel, keyPrefix);
    const origin = performance.now();
    const now = () => performance.now() - origin;
    const outcomes: Outcome[] = [];
    let loading = true;
    const kept = keepAliveClient(pki, edge.port, clientCredentials(pki, "participant-a"));
    const probe = () => httpsRequest({ pki, port: edge.port, credentials: clientCredentials(pki, "participant-c"), path: PAYMENTS }).then((r) => (r.status === 401 ? r.json<{ errors: { code: string }[] }>().errors[0]!.code : String(r.status)));
    try {
      expect(await probe()).toBe("200");
      const load = (async () => {
        while (loading) {
          const start = now();
          const status = await kept.get(ACCOUNTS).then((r) => r.status, () => 0);
          outcomes.push({ start, end: now(), status });
        }
      })();
      await sleep(300);
      const primary = await sentinel.primary();
      primary.freeze();
      const frozenAt = now();
      await sentinel.promotedFrom(primary);
      const promotedAt = now();
      // The operator's command and the other replica's sync reach the new primary (they ask the Sentinel).
      const writer = await openRedisDenyList({ redis: sentinel.target, keyPrefix, connectTimeoutMs: 5_000, subscribe: false });
      const other = await createRedisStore({ redis: sentinel.target, keyPrefix });
      try {
        // The Sentinels announce the switch one after another (ioredis drops a connection at each announcement it
        // hears), so a write sent in that second can fail: the operator, and the other replica's next sync, try again.
        const entry = { kind: "thumbprint", value: pki.clients["participant-c"]!.thumbprint, reason: "failover test", addedAt: new Date().toISOString(), expiresAt: null } as const;
        await until(3_000, "the operator's deny add reaches the new primary", async () => (await writer.add(entry), true));
        // (A publish whose answer was lost in the switch may have been applied: "already current" is then its success.)
        const publish = async () => {
          try {
            await other.publish(snapshot("after-switch", organisations, Date.now()));
          } catch (err) {
            if (!/already current/.test((err as Error).message)) throw err;
          }
          return true;
        };
        await until(3_000, "the other replica publishes on the new primary", publish);
        // The edge's connections were on the hung primary; they left it at the switch, so both arrive.
        await until(3_000, "the edge applies the deny entry written on the new primary", async () => (await probe()) === "CERT_DENIED");
        await until(3_000, "the edge adopts the snapshot published on the new primary", async () => edge.edge.directory!.store.current()?.version === "after-switch");
      } finally {
        await writer.close();
        await other.close();
      }
      const recoveredAt = now();
      loading = false;
      await load;
      const failed = outcomes.filter((o) => o.status !== 200);
      figures.frozen = {
        requests: outcomes.length,
        lost: failed.length,
        sentinelPromotionMsAfterFreeze: Math.round(promotedAt - frozenAt),
        denyAppliedAndSnapshotAdoptedMsAfterPromotion: Math.round(recoveredAt - promotedAt),
      };
      expect(failed).toEqual([]);
    } finally {
      loading = false;
      kept.close();
      await edge.close();
      await sentinel.stop();
    }
  }, 60_000);
});

