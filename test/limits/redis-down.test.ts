import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { httpsRequest } from "../helpers/client.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";
import { startRedisServer, uniquePrefix, until, type RedisServer } from "../helpers/redis.js";
import { errorCode, paymentsRoute, postPayment, startPaymentsBackend } from "../idempotency/helpers.js";

/**
 * A private Redis that goes away under two edges: one whose limits fail open (the default), one whose limits fail
 * closed and whose payments route (limits off there) keeps its idempotency store in the same Redis, which always fails
 * closed. What each answers, what the backend receives, what /readyz and
 * the metrics say, and that both recover when Redis is back.
 */

const CONSENTS = "/open-banking/consents/v3/consents";

let pki: TestPkiManifest;
let redis: RedisServer;
let backend: Awaited<ReturnType<typeof startPaymentsBackend>>;
const edges: Record<"open" | "closed", Awaited<ReturnType<typeof startTestEdge>>> = {} as never;

beforeAll(async () => {
  pki = await testPki();
  [redis, backend] = await Promise.all([startRedisServer(), startPaymentsBackend()]);
  const keyPrefix = uniquePrefix();
  for (const mode of ["open", "closed"] as const) {
    edges[mode] = await startTestEdge({
      pki,
      upstream: backend.url,
      routes: [
        ...(mode === "closed" ? [paymentsRoute(backend.url, { limits: "off" })] : []),
        { name: "open-banking", pathPrefix: "/open-banking/", upstream: backend.url, mtls: "required" },
      ],
      ...(mode === "closed" && { idempotency: { store: { type: "redis" as const, url: redis.url, keyPrefix } } }),
      limits: { store: { type: "redis", url: redis.url, keyPrefix }, onStoreError: mode, families: { "*": { organisation: { perSecond: 1_000 } } } },
      admin: { host: "127.0.0.1", port: 0 },
    });
  }
});
afterAll(async () => {
  await Promise.all(Object.values(edges).map((e) => e.close()));
  await backend?.close();
  await redis?.kill();
});

const consents = (mode: "open" | "closed") => httpsRequest({ pki, port: edges[mode].port, credentials: clientCredentials(pki, "participant-a"), path: CONSENTS });
const readyz = async (mode: "open" | "closed") => {
  const res = await fetch(`http://127.0.0.1:${edges[mode].edge.adminPort}/readyz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const storeErrors = async (mode: "open" | "closed", decision: string) => (await edges[mode].metrics.registry.getSingleMetric("ofb_edge_limit_store_errors_total")!.get()).values.find((v) => v.labels.decision === decision)?.value ?? 0;

describe("traffic limits and idempotency while Redis is down", () => {
  it("limits fail open: forwarded uncounted, counted as store errors, /readyz ready with the outage in its detail; fail closed: 503 TRAFFIC_LIMITS_UNAVAILABLE with Retry-After, not forwarded, /readyz not ready; an idempotent payment 503; all recover", async () => {
    for (const mode of ["open", "closed"] as const) expect((await consents(mode)).status).toBe(201);
    expect((await readyz("closed")).status).toBe(200);

    await redis.kill();
    await until(5_000, "both edges see Redis gone", async () => (await readyz("closed")).status === 503);

    const before = backend.received.length;
    const open = await consents("open");
    expect(open.status).toBe(201);
    expect(backend.received.length).toBe(before + 1);
    expect(await storeErrors("open", "open")).toBeGreaterThanOrEqual(1);
    const openReady = await readyz("open");
    expect(openReady.status).toBe(200);
    expect(JSON.stringify(openReady.body)).toContain("forwarded uncounted");

    const closed = await consents("closed");
    expect([closed.status, errorCode(closed)]).toEqual([503, "TRAFFIC_LIMITS_UNAVAILABLE"]);
    expect(Number(closed.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(await storeErrors("closed", "closed")).toBeGreaterThanOrEqual(1);
    const closedReady = JSON.stringify((await readyz("closed")).body);
    expect(closedReady).toContain("traffic limit store is unreachable");
    expect(closedReady).toContain("idempotency store is unreachable");

    // A first payment is never forwarded without its claim, whatever the limits do.
    const payment = await postPayment(pki, edges.closed.port, { key: randomUUID() });
    expect([payment.status, errorCode(payment)]).toEqual([503, "IDEMPOTENCY_UNAVAILABLE"]);
    expect(backend.received.length).toBe(before + 1);

    await redis.restart();
    await until(10_000, "both edges count again", async () => (await readyz("closed")).status === 200 && (await consents("closed")).status === 201);
    expect((await postPayment(pki, edges.closed.port, { key: randomUUID() })).status).toBe(201);
  });
});
