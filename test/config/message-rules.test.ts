import { describe, expect, it } from "vitest";
import { issues, parse } from "../helpers/config.js";

/**
 * The `idempotency` and `limits` sections and their route options: defaults, and each combination refused with the
 * key it names and the rule.
 */

const route = (extra: Record<string, unknown> = {}) => ({ name: "payments", pathPrefix: "/open-banking/payments/", upstream: "http://10.0.0.5:8080", ...extra });
const base = (extra: Record<string, unknown> = {}, routeExtra: Record<string, unknown> = {}) => ({
  listeners: [{ name: "edge", port: 8443, mode: "strict", tls: { cert: "c.pem", key: "k.pem", trustAnchors: ["a.pem"] } }],
  routes: [route(routeExtra)],
  ...extra,
});

describe("idempotency and limits configuration", () => {
  it("defaults: 24 h window, memory stores, 2xx and 422 stored, limits fail open; a route enforces limits once the section exists, idempotency only when it says so", () => {
    const cfg = parse(base({ idempotency: {}, limits: {} }, { idempotency: "enforce" }));
    expect(cfg.idempotency).toMatchObject({ windowMs: 86_400_000, store: { type: "memory", maxEntries: 100_000 }, storeStatuses: ["2xx", 422], inFlightWaitMs: 10_000, maxResponseBytes: 262_144 });
    expect(cfg.idempotency!.operations).toContain("POST /open-banking/payments/{version}/pix/payments");
    expect(cfg.limits).toMatchObject({ store: { type: "memory" }, onStoreError: "open", families: {} });
    expect(cfg.routes[0]).toMatchObject({ idempotency: "enforce" });
    expect(parse(base()).routes[0]!.idempotency).toBe("off");
  });

  it("refuses each inconsistent combination, naming the key", () => {
    expect(issues(base({}, { idempotency: "enforce" }))).toEqual([{ path: "routes[0].idempotency", message: expect.stringContaining("needs an `idempotency` section") }]);
    expect(issues(base({ idempotency: {} }, { idempotency: "enforce", mtls: "optional" }))).toEqual([{ path: "routes[0].idempotency", message: expect.stringContaining("needs mtls required") }]);
    expect(issues(base({}, { limits: "enforce" }))).toEqual([{ path: "routes[0].limits", message: expect.stringContaining("needs a `limits` section") }]);
    expect(issues(base({}, { globalPerSecond: 10 }))).toEqual([{ path: "routes[0].globalPerSecond", message: expect.stringContaining("needs a `limits` section") }]);
    expect(issues(base({ limits: {} }, { limits: "off", globalPerSecond: 10 }))).toEqual([{ path: "routes[0].globalPerSecond", message: expect.stringContaining("limits are off") }]);
    expect(issues(base({ idempotency: { claimTtlMs: 1_000 } }))).toEqual([{ path: "idempotency.claimTtlMs", message: expect.stringContaining("must exceed the longest exchange") }]);
    expect(issues(base({ idempotency: { store: { type: "redis", url: "redis://10.0.0.9:6379", replicaAcks: 1 } } }))).toEqual([{ path: "idempotency.store.replicaAcks", message: expect.stringContaining("a standalone Redis has no replicas") }]);
    expect(issues(base({ limits: { families: { payments: { organisation: {} } } } }))).toEqual([{ path: "limits.families.payments.organisation", message: "set perSecond, perMinute or both" }]);
    expect(issues(base({ limits: { families: { "Payments!": { organisation: { perSecond: 1 } } } } }))[0]).toMatchObject({ path: expect.stringContaining("limits.families") });
    expect(issues(base({ idempotency: { operations: ["GET /open-banking/x"] } }))[0]).toMatchObject({ path: "idempotency.operations[0]", message: expect.stringContaining("METHOD /path") });
    expect(issues(base({ limits: { onStoreError: "maybe" } }))[0]).toMatchObject({ path: "limits.onStoreError" });
  });

  it("both stores on Redis reach it through the `redis` section like every other user; a url next to it is ambiguous", () => {
    const SENTINEL = { mode: "sentinel", sentinels: [{ host: "10.0.0.7", port: 26379 }], name: "ofb-edge" };
    const cfg = parse(base({ redis: SENTINEL, idempotency: { store: { type: "redis", keyPrefix: "edge:" } }, limits: { store: { type: "redis", keyPrefix: "edge:" } } }));
    expect([cfg.idempotency!.store.type, cfg.limits!.store.type]).toEqual(["redis", "redis"]);
    expect(issues(base({ redis: SENTINEL, limits: { store: { type: "redis", url: "redis://10.0.0.9:6379" } } }))).toEqual([{ path: "limits.store.url", message: expect.stringContaining("keep one") }]);
  });
});
