import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startTestEdge, testPki } from "../helpers/edge.js";
import { sleep, uniquePrefix } from "../helpers/redis.js";
import { startRedisSentinel, type RedisSentinelUnderTest } from "../helpers/redis-sentinel.js";
import { postPayment, signedPayment, startPaymentsBackend } from "./helpers.js";

/**
 * A Sentinel failover during a stream of idempotent payments: TPPs send payments to two edges sharing the
 * idempotency store on a Sentinel-managed primary and replica, and retry each one (with its key, alternating edges)
 * until it is answered 201, then repeat it once more (retried the same way). The primary is killed in the middle. The rule under test: no
 * duplicate payment — the backend receives each key at most once — and every payment is answered in the end. The
 * figures are written as JSON to the file named by OFB_EDGE_IDEMPOTENCY_FAILOVER_FIGURES when it is set.
 */

const TPP_LOOPS = 6;
/** The backend takes this long per payment, so that some are in flight when the primary dies. */
const BACKEND_MS = 30;
/** A payment not answered 201 within this long counts as unfinished. */
const PAYMENT_DEADLINE_MS = 20_000;
const RETRY_PAUSE_MS = 100;

let pki: TestPkiManifest;
let sentinel: RedisSentinelUnderTest;
let backend: Awaited<ReturnType<typeof startPaymentsBackend>>;
const figures: Record<string, unknown> = {};

beforeAll(async () => {
  pki = await testPki();
  [sentinel, backend] = await Promise.all([
    startRedisSentinel(),
    startPaymentsBackend((_req, res, n) => {
      setTimeout(() => {
        res.writeHead(201, { "content-type": "application/jwt", location: `/open-banking/payments/v4/pix/payments/${n}` });
        res.end(`payment-${n}.${randomUUID()}`);
      }, BACKEND_MS);
      return true;
    }),
  ]);
});
afterAll(async () => {
  await sentinel?.stop();
  await backend?.close();
  if (process.env.OFB_EDGE_IDEMPOTENCY_FAILOVER_FIGURES) writeFileSync(process.env.OFB_EDGE_IDEMPOTENCY_FAILOVER_FIGURES, `${JSON.stringify(figures, null, 2)}\n`);
});

interface Attempt {
  readonly key: string;
  /** Until the payment's first 201, or its repeat after it. */
  readonly kind: "payment" | "repeat";
  readonly start: number;
  readonly end: number;
  readonly status: number;
  readonly code: string | null;
}

describe("idempotency through a Sentinel failover", () => {
  it("the primary dies during a stream of payment retries on two edges: no key reaches the backend twice, every payment is answered 201, repeats are replayed", async () => {
    const keyPrefix = uniquePrefix();
    const edges = await Promise.all(
      [0, 1].map(() =>
        startTestEdge({
          pki,
          upstream: backend.url,
          routes: [{ name: "payments", pathPrefix: "/open-banking/payments/", upstream: backend.url, mtls: "required", idempotency: "enforce" }],
          redis: { mode: "sentinel", sentinels: sentinel.target.mode === "sentinel" ? [...sentinel.target.sentinels] : [], name: sentinel.name, connectTimeoutMs: 1_000 },
          proxy: { connectTimeoutMs: 1_000, headersTimeoutMs: 3_000, bodyTimeoutMs: 3_000 },
          // replicaAcks auto: 1 with Sentinel (a claim is on the replica before the payment is forwarded).
          idempotency: { store: { type: "redis", keyPrefix }, claimTtlMs: 10_000, inFlightWaitMs: 2_000 },
        }),
      ),
    );
    const origin = performance.now();
    const now = () => performance.now() - origin;
    const attempts: Attempt[] = [];
    const payments: { key: string; done: number | null; firstBody: Buffer | null; replayEqual: boolean | null }[] = [];
    let running = true;

    async function tpp(loop: number): Promise<void> {
      while (running) {
        const key = randomUUID();
        const data = { amount: `${loop}.${payments.length}`, creditor: "failover" };
        const payment: (typeof payments)[number] = { key, done: null, firstBody: null, replayEqual: null };
        payments.push(payment);
        const started = now();
        for (let i = 0; now() - started < PAYMENT_DEADLINE_MS; i++) {
          const start = now();
          // Each retry is signed anew (a fresh jti and iat), as a TPP does.
          const res = await postPayment(pki, edges[(loop + i) % 2]!.port, { key, body: signedPayment(data) }).catch(() => null);
          const status = res?.status ?? 0;
          attempts.push({ key, kind: "payment", start, end: now(), status, code: res && status !== 201 ? (res.json<{ errors?: { code: string }[] }>().errors?.[0]?.code ?? null) : null });
          if (status === 201) {
            payment.done = now();
            payment.firstBody = res!.body;
            break;
          }
          await sleep(RETRY_PAUSE_MS);
        }
        // The repeat too is retried while the store is away (503) or the edge unreachable.
        for (let i = 0; payment.firstBody && payment.replayEqual === null && now() - started < PAYMENT_DEADLINE_MS; i++) {
          const start = now();
          const again = await postPayment(pki, edges[(loop + 1 + i) % 2]!.port, { key, body: signedPayment(data) }).catch(() => null);
          attempts.push({ key, kind: "repeat", start, end: now(), status: again?.status ?? 0, code: again && again.status !== 201 ? (again.json<{ errors?: { code: string }[] }>().errors?.[0]?.code ?? null) : null });
          if (again && again.status !== 503) payment.replayEqual = again.status === 201 && again.body.equals(payment.firstBody);
          else await sleep(RETRY_PAUSE_MS);
        }
      }
    }

    try {
      const loops = Array.from({ length: TPP_LOOPS }, (_, i) => tpp(i));
      await sleep(1_000);
      const primary = await sentinel.primary();
      await primary.kill();
      const killedAt = now();
      const promotedAt = await sentinel.promotedFrom(primary).then(() => now());
      await sleep(2_000);
      running = false;
      await Promise.all(loops);

      const received = new Map<string, number>();
      for (const r of backend.received) {
        const key = r.headers["x-idempotency-key"];
        if (typeof key === "string") received.set(key, (received.get(key) ?? 0) + 1);
      }
      const duplicates = [...received.entries()].filter(([, n]) => n > 1);
      const refused = attempts.filter((a) => a.status !== 201);
      const byAnswer: Record<string, number> = {};
      for (const a of refused) {
        const answer = `${a.kind}: ${a.status} ${a.code ?? ""}`.trim();
        byAnswer[answer] = (byAnswer[answer] ?? 0) + 1;
      }
      const firstOkAfterKill = attempts.find((a) => a.start > killedAt && a.status === 201);
      Object.assign(figures, {
        payments: payments.length,
        answered201: payments.filter((p) => p.done !== null).length,
        attempts: { payment: attempts.filter((a) => a.kind === "payment").length, repeat: attempts.filter((a) => a.kind === "repeat").length },
        answersOtherThan201: byAnswer,
        attemptsInFlightAtKill: attempts.filter((a) => a.start <= killedAt && a.end >= killedAt).length,
        sentinelPromotionMsAfterKill: Math.round(promotedAt - killedAt),
        first201StartedAfterKillMs: firstOkAfterKill ? Math.round(firstOkAfterKill.start - killedAt) : null,
        lastRefusalEndMsAfterKill: refused.length ? Math.round(Math.max(...refused.map((a) => a.end)) - killedAt) : null,
        backendReceivedKeys: received.size,
        duplicatePayments: duplicates.length,
        repeatsReplayedByteForByte: payments.filter((p) => p.replayEqual === true).length,
        unreplicatedClaims: edges.reduce((n, e) => n + ((e.logs.filter((l) => l.kind === "idempotency" && typeof l.msg === "string" && l.msg.includes("did not acknowledge")).length as number) ?? 0), 0),
      });

      expect(duplicates).toEqual([]);
      expect(payments.filter((p) => p.done === null).map((p) => p.key)).toEqual([]);
      expect(payments.filter((p) => p.replayEqual !== true).map((p) => p.key)).toEqual([]);
      // Every payment reached the backend exactly once: the one answered 201 is the one stored and replayed.
      expect(received.size).toBe(payments.length);
      expect(promotedAt - killedAt).toBeLessThan(8_000);
    } finally {
      running = false;
      await Promise.all(edges.map((e) => e.close()));
    }
  });
});
