import * as x509 from "@peculiar/x509";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { CertInfo } from "../../src/pki/certificate.js";
import { parseCertInfo } from "../../src/pki/certificate.js";
import { issueClientCertificate } from "../../src/pki/test-pki/index.js";
import { revocationSchema, type RevocationConfigInput } from "../../src/revocation/config.js";
import { createRedisRevocationStore } from "../../src/revocation/redis-store.js";
import { createRevocationService, type RevocationService } from "../../src/revocation/service.js";
import { createMemoryRevocationStore, type RevocationStore } from "../../src/revocation/store.js";
import { testPki } from "../helpers/edge.js";
import { deletePrefix, redisUrl, startRedisServer, uniquePrefix } from "../helpers/redis.js";
import { startCrlServer, type CrlServer } from "./crl-server.js";
import { HOUR, captureLogger, revocationPki, serialOf, signCrl, type RevocationPki } from "./fixtures.js";
import { testDispatcher } from "../helpers/outbound.js";

const dispatcher = testDispatcher();

let p: RevocationPki;
let server: CrlServer;
let revokedChain: CertInfo[];
let goodChain: CertInfo[];
/** The wall clock at the start; CRLs are dated from it and the injected clocks move from it. */
const T0 = Math.floor(Date.now() / 1000) * 1000;
const thisUpdate = new Date(T0 - 60_000);
const nextUpdate = new Date(T0 + HOUR);

beforeAll(async () => {
  p = await revocationPki(await testPki());
  server = await startCrlServer();
  [revokedChain, goodChain] = await Promise.all([p.chain("revoked"), p.chain("participant-a")]);
});
afterAll(() => server?.close());

/** The stores every behaviour runs against (one contract suite for every implementation). */
const STORES: Record<string, () => Promise<{ store: RevocationStore; cleanup: () => Promise<void> }>> = {
  memory: async () => ({ store: createMemoryRevocationStore(), cleanup: async () => undefined }),
  redis: async () => {
    const prefix = uniquePrefix();
    const store = await createRedisRevocationStore({ url: redisUrl(), keyPrefix: prefix });
    return { store, cleanup: () => store.close().then(() => deletePrefix(redisUrl(), prefix)) };
  },
};

describe.each(Object.keys(STORES))("revocation by CRL (%s store)", (storeName) => {
  const open: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of open.splice(0)) await close();
  });

  /** A service whose CRL URLs for ssl-ac and the root are this test's own paths on the CRL server. */
  async function service(tag: string, config: RevocationConfigInput = {}, now: () => number = () => T0) {
    const { store, cleanup } = await STORES[storeName]!();
    const { logger, lines } = captureLogger();
    const urls = { [p.sslAcInfo.sha256]: [server.url(`/${storeName}/${tag}/ssl-ac.crl`)], [p.rootInfo.sha256]: [server.url(`/${storeName}/${tag}/root.crl`)], ...config.urls };
    const parsed = revocationSchema.parse({ fetchTimeoutMs: 2_000, ...config, urls });
    const s = createRevocationService(parsed, { anchors: p.anchors, dispatcher, issuers: [p.sslAcInfo], store, logger, now });
    open.push(async () => {
      await s.close();
      await cleanup();
    });
    return { s, lines, path: (name: string) => `/${storeName}/${tag}/${name}` };
  }

  async function publish(path: string, spec: Parameters<typeof signCrl>[1], ca = p.sslAc) {
    server.serve(path, { body: await signCrl(ca, spec) });
  }

  const revokedLeaf = () => ({ serial: serialOf(revokedChain[0]!), reason: x509.X509CrlReason.keyCompromise, at: new Date(T0 - 3_600_000) });

  it("rejects a revoked leaf (certIndex 0, with date and reason) and accepts one not listed", async () => {
    const { s, path } = await service("leaf");
    await publish(path("ssl-ac.crl"), { revoked: [revokedLeaf()], thisUpdate, nextUpdate });
    await publish(path("root.crl"), { thisUpdate, nextUpdate }, p.root);
    await s.refreshNow();
    const verdict = s.check(revokedChain, T0);
    expect(verdict).toMatchObject({ ok: false, code: "CERT_REVOKED", certIndex: 0 });
    expect(!verdict.ok && verdict.detail).toContain(`revoked at ${new Date(T0 - 3_600_000).toISOString()}, reason keyCompromise`);
    expect(s.check(goodChain, T0)).toEqual({ ok: true });
    expect(s.state().acs.map((a) => [a.sha256, a.status, a.serials])).toEqual(
      expect.arrayContaining([
        [p.sslAcInfo.sha256, "fresh", 1],
        [p.rootInfo.sha256, "fresh", 0],
      ]),
    );
  });

  it("rejects a chain whose intermediate is on the root's CRL (certIndex 1)", async () => {
    const { s, path } = await service("intermediate");
    await publish(path("ssl-ac.crl"), { thisUpdate, nextUpdate });
    await publish(path("root.crl"), { revoked: [{ serial: serialOf(p.sslAcInfo), reason: x509.X509CrlReason.cACompromise }], thisUpdate, nextUpdate }, p.root);
    await s.refreshNow();
    expect(s.check(goodChain, T0)).toMatchObject({ ok: false, code: "CERT_REVOKED", certIndex: 1, detail: expect.stringContaining("cACompromise") });
  });

  it("soft-fail serves a CRL past nextUpdate within graceMs, then fails closed; hard-fail fails at once", async () => {
    const soft = await service("stale-soft", { graceMs: 6 * HOUR });
    const hard = await service("stale-hard", { onStale: "hard-fail" });
    for (const { s, path } of [soft, hard]) {
      await publish(path("ssl-ac.crl"), { revoked: [revokedLeaf()], thisUpdate, nextUpdate });
      await publish(path("root.crl"), { thisUpdate, nextUpdate }, p.root);
      await s.refreshNow();
      expect(s.check(goodChain, nextUpdate.getTime())).toEqual({ ok: true });
    }
    const past = nextUpdate.getTime() + 1;
    expect(soft.s.check(goodChain, past)).toEqual({ ok: true });
    expect(soft.s.check(goodChain, nextUpdate.getTime() + 6 * HOUR)).toEqual({ ok: true });
    expect(soft.s.check(goodChain, nextUpdate.getTime() + 6 * HOUR + 1)).toMatchObject({ ok: false, code: "CERT_REVOCATION_UNAVAILABLE", certIndex: 0, detail: expect.stringContaining("expired at") });
    expect(hard.s.check(goodChain, past)).toMatchObject({ ok: false, code: "CERT_REVOCATION_UNAVAILABLE", certIndex: 0 });
    // A revocation stays true on a CRL however stale.
    expect(soft.s.check(revokedChain, nextUpdate.getTime() + 7 * HOUR)).toMatchObject({ ok: false, code: "CERT_REVOKED" });
    expect(soft.s.state().acs.map((a) => a.status)).toEqual(["fresh", "fresh"]);
    // Logged once per AC (ssl-ac's CRL for the leaf, the root's for ssl-ac), not once per request.
    expect(soft.lines.filter((l) => l.event === "crl-stale-grace").map((l) => l.sha256)).toEqual([p.sslAcInfo.sha256, p.rootInfo.sha256]);
  });

  it("refuses a CRL signed by another key: keeps the CRL held, and with none the chain is unavailable in hard-fail", async () => {
    const { s, path, lines } = await service("wrong-key", { onStale: "hard-fail" });
    await publish(path("ssl-ac.crl"), { thisUpdate, nextUpdate, signWith: p.otherAc });
    await publish(path("root.crl"), { thisUpdate, nextUpdate }, p.root);
    await s.refreshNow();
    expect(s.check(revokedChain, T0)).toMatchObject({ ok: false, code: "CERT_REVOCATION_UNAVAILABLE", certIndex: 0 });
    expect(s.state().acs.find((a) => a.sha256 === p.sslAcInfo.sha256)).toMatchObject({ status: "missing", lastError: expect.stringContaining("signature does not verify") });
    expect(lines.some((l) => l.event === "crl-refresh-failed")).toBe(true);
  });

  it("keeps the previous CRL when a newer one fails verification", async () => {
    let now = T0;
    const { s, path } = await service("wrong-key-kept", { minRefreshIntervalMs: 1_000 }, () => now);
    await publish(path("ssl-ac.crl"), { revoked: [revokedLeaf()], thisUpdate, nextUpdate });
    await publish(path("root.crl"), { thisUpdate, nextUpdate }, p.root);
    await s.refreshNow();
    await publish(path("ssl-ac.crl"), { thisUpdate: new Date(T0 + HOUR - 60_000), nextUpdate: new Date(T0 + 2 * HOUR), signWith: p.otherAc });
    now = T0 + HOUR - 10 * 60_000; // inside refreshBeforeMs: due
    const before = server.hits(path("ssl-ac.crl"));
    await s.refreshNow();
    expect(server.hits(path("ssl-ac.crl"))).toBe(before + 1);
    expect(s.state().acs.find((a) => a.sha256 === p.sslAcInfo.sha256)).toMatchObject({ status: "fresh", thisUpdate: thisUpdate.toISOString() });
    expect(s.check(revokedChain, now)).toMatchObject({ ok: false, code: "CERT_REVOKED" });
  });

  it("refuses a truncated body, whether the server cut the connection or sent a short, well-framed body", async () => {
    const { s, path } = await service("truncated", { onStale: "hard-fail" });
    const der = await signCrl(p.sslAc, { revoked: [revokedLeaf()], thisUpdate, nextUpdate });
    await publish(path("root.crl"), { thisUpdate, nextUpdate }, p.root);
    server.serve(path("ssl-ac.crl"), { body: der, cutAfter: Math.floor(der.length / 2) });
    await s.refreshNow();
    expect(s.check(revokedChain, T0)).toMatchObject({ ok: false, code: "CERT_REVOCATION_UNAVAILABLE" });
    server.serve(path("ssl-ac.crl"), { body: der.subarray(0, der.length - 7) });
    await s.refreshNow();
    expect(s.state().acs.find((a) => a.sha256 === p.sslAcInfo.sha256)).toMatchObject({ status: "missing", lastError: expect.stringContaining("truncated") });
  });

  it("HTTP 404 and a time-out: unavailable in hard-fail, accepted and logged once in soft-fail", async () => {
    const hard = await service("404-hard", { onStale: "hard-fail" });
    const soft = await service("timeout-soft", { fetchTimeoutMs: 300 });
    server.serve(soft.path("ssl-ac.crl"), { hang: true });
    server.serve(soft.path("root.crl"), { hang: true });
    await Promise.all([hard.s.refreshNow(), soft.s.refreshNow()]);
    // The leaf names one more distribution point (the run's PKI's, where nothing listens): prepare tries it too.
    await Promise.all([hard.s.prepare(goodChain, T0), soft.s.prepare(goodChain, T0)]);
    expect(hard.s.check(goodChain, T0)).toMatchObject({ ok: false, code: "CERT_REVOCATION_UNAVAILABLE", certIndex: 0, detail: expect.stringContaining("HTTP 404") });
    expect(soft.s.check(goodChain, T0)).toEqual({ ok: true });
    expect(soft.s.check(goodChain, T0)).toEqual({ ok: true });
    expect(soft.s.state().acs.find((a) => a.sha256 === p.sslAcInfo.sha256)?.lastError).toMatch(/timed out|aborted/i);
    expect(soft.lines.filter((l) => l.event === "crl-missing").map((l) => l.sha256)).toEqual([p.sslAcInfo.sha256, p.rootInfo.sha256]);
  });

  it("tries a certificate's distribution points in order: the first down, the second used", async () => {
    const { s, path } = await service("several");
    const ac = await issueClientCertificate(p.sslAc, {
      subject: [{ "2.5.4.3": ["several-dps.test"] }],
      crlDistributionPoints: [server.url(path("down.crl")), server.url(path("up.crl"))],
    });
    const leaf = parseCertInfo(ac.der);
    const chain = [leaf, p.sslAcInfo, p.rootInfo];
    server.serve(path("down.crl"), { status: 503 });
    await publish(path("up.crl"), { revoked: [{ serial: serialOf(leaf), reason: x509.X509CrlReason.superseded }], thisUpdate, nextUpdate });
    await publish(path("root.crl"), { thisUpdate, nextUpdate }, p.root);
    // The configured ssl-ac URL (404) comes first; then the leaf's two, in its order. Until that first fetch
    // ends, a check has no verdict to give.
    expect(s.check(chain, T0)).toMatchObject({ ok: false, code: "CERT_REVOCATION_UNAVAILABLE", pending: true });
    await s.refreshNow();
    expect([server.hits(path("ssl-ac.crl")), server.hits(path("down.crl")), server.hits(path("up.crl"))]).toEqual([1, 1, 1]);
    expect(s.check(chain, T0)).toMatchObject({ ok: false, code: "CERT_REVOKED", certIndex: 0, detail: expect.stringContaining("superseded") });
    expect(s.state().acs.find((a) => a.sha256 === p.sslAcInfo.sha256)?.source).toBe(server.url(path("up.crl")));
  });

  it("fetches an AC first seen in check() in the background; that request follows the missing-CRL rule", async () => {
    const { store, cleanup } = await STORES[storeName]!();
    const { logger } = captureLogger();
    const tag = `/${storeName}/lazy/`;
    const config = revocationSchema.parse({ onStale: "hard-fail", urls: { [p.sslAcInfo.sha256]: [server.url(`${tag}ssl-ac.crl`)], [p.rootInfo.sha256]: [server.url(`${tag}root.crl`)] } });
    const s = createRevocationService(config, { anchors: p.anchors, dispatcher, issuers: [], store, logger, now: () => T0 });
    open.push(() => s.close().then(cleanup));
    await publish(`${tag}ssl-ac.crl`, { revoked: [revokedLeaf()], thisUpdate, nextUpdate });
    await publish(`${tag}root.crl`, { thisUpdate, nextUpdate }, p.root);
    // Only the root is known up front (it has configured URLs): ssl-ac is learned from the chain.
    expect(s.state().acs.map((a) => a.sha256)).toEqual([p.rootInfo.sha256]);
    expect(s.check(revokedChain, T0)).toMatchObject({ ok: false, code: "CERT_REVOCATION_UNAVAILABLE" });
    await expect.poll(() => s.check(revokedChain, T0), { timeout: 5_000 }).toMatchObject({ code: "CERT_REVOKED" });
    expect(server.hits(`${tag}ssl-ac.crl`)).toBe(1);
  });
});

describe("replicas sharing one Redis", () => {
  it("one downloads each CRL; the other loads it through pub/sub", async () => {
    const prefix = uniquePrefix();
    const config = revocationSchema.parse({
      store: { type: "redis", url: redisUrl(), keyPrefix: prefix },
      urls: { [p.sslAcInfo.sha256]: [server.url("/shared/ssl-ac.crl")], [p.rootInfo.sha256]: [server.url("/shared/root.crl")] },
    });
    server.serve("/shared/ssl-ac.crl", { body: await signCrl(p.sslAc, { revoked: [{ serial: serialOf(revokedChain[0]!) }], thisUpdate, nextUpdate }) });
    server.serve("/shared/root.crl", { body: await signCrl(p.root, { thisUpdate, nextUpdate }) });
    const replicas: { s: RevocationService; store: RevocationStore }[] = [];
    for (let i = 0; i < 2; i++) {
      const store = await createRedisRevocationStore({ url: redisUrl(), keyPrefix: prefix });
      replicas.push({ store, s: createRevocationService(config, { anchors: p.anchors, dispatcher, issuers: [p.sslAcInfo], store, logger: captureLogger().logger, now: () => T0 }) });
    }
    const [a, b] = replicas as [(typeof replicas)[number], (typeof replicas)[number]];
    try {
      await a.s.refreshNow();
      expect([server.hits("/shared/ssl-ac.crl"), server.hits("/shared/root.crl")]).toEqual([1, 1]);
      await expect.poll(() => b.s.check(revokedChain, T0), { timeout: 5_000 }).toMatchObject({ code: "CERT_REVOKED", certIndex: 0 });
      await expect.poll(() => b.s.state().acs.map((x) => x.status), { timeout: 5_000 }).toEqual(["fresh", "fresh"]);
      // Both asked at once: still nothing downloaded again, as the stored CRLs are not due.
      await Promise.all([a.s.refreshNow(), b.s.refreshNow()]);
      expect([server.hits("/shared/ssl-ac.crl"), server.hits("/shared/root.crl")]).toEqual([1, 1]);
    } finally {
      for (const r of replicas) await r.s.close().then(() => r.store.close());
      await deletePrefix(redisUrl(), prefix);
    }
  });

  it("keeps CRLs current on its own while Redis is down (no lock, no sharing, no staleness)", async () => {
    const redis = await startRedisServer();
    const store = await createRedisRevocationStore({ url: redis.url, keyPrefix: uniquePrefix() });
    const { logger, lines } = captureLogger();
    const urls = { [p.sslAcInfo.sha256]: [server.url("/redis-down/ssl-ac.crl")], [p.rootInfo.sha256]: [server.url("/redis-down/root.crl")] };
    const s = createRevocationService(revocationSchema.parse({ onStale: "hard-fail", urls }), { anchors: p.anchors, dispatcher, issuers: [p.sslAcInfo], store, logger, now: () => T0 });
    server.serve("/redis-down/ssl-ac.crl", { body: await signCrl(p.sslAc, { revoked: [{ serial: serialOf(revokedChain[0]!) }], thisUpdate, nextUpdate }) });
    server.serve("/redis-down/root.crl", { body: await signCrl(p.root, { thisUpdate, nextUpdate }) });
    try {
      await redis.kill();
      await s.refreshNow();
      expect(s.check(revokedChain, T0)).toMatchObject({ code: "CERT_REVOKED" });
      expect(s.check(goodChain, T0)).toEqual({ ok: true });
      expect(lines.some((l) => l.event === "store-failed")).toBe(true);
    } finally {
      await s.close();
      await store.close();
    }
  });

  it("first connections on two replicas at once: one downloads, the other waits for its CRL instead of deciding without one", async () => {
    const prefix = uniquePrefix();
    const urls = { [p.sslAcInfo.sha256]: [server.url("/first-shared/ssl-ac.crl")], [p.rootInfo.sha256]: [server.url("/first-shared/root.crl")] };
    const config = revocationSchema.parse({ onStale: "hard-fail", store: { type: "redis", url: redisUrl(), keyPrefix: prefix }, urls });
    server.serve("/first-shared/ssl-ac.crl", { body: await signCrl(p.sslAc, { revoked: [{ serial: serialOf(revokedChain[0]!) }], thisUpdate, nextUpdate }), delayMs: 300 });
    server.serve("/first-shared/root.crl", { body: await signCrl(p.root, { thisUpdate, nextUpdate }), delayMs: 300 });
    const stores = await Promise.all([0, 1].map(() => createRedisRevocationStore({ url: redisUrl(), keyPrefix: prefix })));
    // No ACs known in advance: both learn ssl-ac from the chain, as a replica does from its first client.
    const services = stores.map((store) => createRevocationService(config, { anchors: p.anchors, dispatcher, issuers: [], store, logger: captureLogger().logger, now: () => T0 }));
    try {
      await Promise.all(services.map((s) => s.prepare(revokedChain, T0)));
      expect(services.map((s) => s.check(revokedChain, T0))).toMatchObject([{ code: "CERT_REVOKED" }, { code: "CERT_REVOKED" }]);
      expect(services.map((s) => s.check(goodChain, T0))).toEqual([{ ok: true }, { ok: true }]);
      expect([server.hits("/first-shared/ssl-ac.crl"), server.hits("/first-shared/root.crl")]).toEqual([1, 1]);
    } finally {
      for (const [i, s] of services.entries()) await s.close().then(() => stores[i]!.close());
      await deletePrefix(redisUrl(), prefix);
    }
  });

  it("two replicas starting together download each CRL once (per-AC lock)", async () => {
    const prefix = uniquePrefix();
    const urls = { [p.sslAcInfo.sha256]: [server.url("/race/ssl-ac.crl")], [p.rootInfo.sha256]: [server.url("/race/root.crl")] };
    const config = revocationSchema.parse({ store: { type: "redis", url: redisUrl(), keyPrefix: prefix }, urls });
    server.serve("/race/ssl-ac.crl", { body: await signCrl(p.sslAc, { thisUpdate, nextUpdate }) });
    server.serve("/race/root.crl", { body: await signCrl(p.root, { thisUpdate, nextUpdate }) });
    const stores = await Promise.all([0, 1].map(() => createRedisRevocationStore({ url: redisUrl(), keyPrefix: prefix })));
    const services = stores.map((store) => createRevocationService(config, { anchors: p.anchors, dispatcher, issuers: [p.sslAcInfo], store, logger: captureLogger().logger, now: () => T0 }));
    try {
      await Promise.all(services.map((s) => s.refreshNow()));
      await expect.poll(() => services.flatMap((s) => s.state().acs.map((x) => x.status)), { timeout: 5_000 }).toEqual(["fresh", "fresh", "fresh", "fresh"]);
      expect([server.hits("/race/ssl-ac.crl"), server.hits("/race/root.crl")]).toEqual([1, 1]);
    } finally {
      for (const [i, s] of services.entries()) await s.close().then(() => stores[i]!.close());
      await deletePrefix(redisUrl(), prefix);
    }
  });
});

describe("refresh schedule and CRL dates (memory store)", () => {
  async function service(tag: string, now: () => number, config: RevocationConfigInput = {}) {
    const { logger, lines } = captureLogger();
    const urls = { [p.sslAcInfo.sha256]: [server.url(`/schedule/${tag}/ssl-ac.crl`)], [p.rootInfo.sha256]: [server.url(`/schedule/${tag}/root.crl`)] };
    const s = createRevocationService(revocationSchema.parse({ ...config, urls }), { anchors: p.anchors, dispatcher, issuers: [p.sslAcInfo], store: createMemoryRevocationStore(), logger, now });
    server.serve(`/schedule/${tag}/root.crl`, { body: await signCrl(p.root, { thisUpdate, nextUpdate }) });
    return { s, lines, path: `/schedule/${tag}/ssl-ac.crl` };
  }
  const sslAc = (s: RevocationService) => s.state().acs.find((a) => a.sha256 === p.sslAcInfo.sha256);

  it("start() fetches every known AC's CRL in the background, before any request", async () => {
    const { s, path } = await service("start", () => T0);
    server.serve(path, { body: await signCrl(p.sslAc, { thisUpdate, nextUpdate }) });
    try {
      s.start();
      await expect.poll(() => s.state().acs.map((a) => a.status), { timeout: 5_000 }).toEqual(["fresh", "fresh"]);
    } finally {
      await s.close();
    }
  });

  it("downloads again only when due (refreshBeforeMs ahead of nextUpdate), and never goes back to an older CRL", async () => {
    let now = T0;
    const { s, path } = await service("due", () => now, { refreshBeforeMs: 15 * 60_000, minRefreshIntervalMs: 60_000 });
    try {
      server.serve(path, { body: await signCrl(p.sslAc, { thisUpdate, nextUpdate }) });
      await s.refreshNow();
      await s.refreshNow();
      expect(server.hits(path)).toBe(1);
      // A lagging mirror serves an older CRL when the refresh is due: refused, the newer one kept.
      server.serve(path, { body: await signCrl(p.sslAc, { thisUpdate: new Date(thisUpdate.getTime() - HOUR), nextUpdate: new Date(T0 + 2 * HOUR) }) });
      now = nextUpdate.getTime() - 10 * 60_000;
      await s.refreshNow();
      expect([server.hits(path), sslAc(s)?.thisUpdate, sslAc(s)?.lastError]).toEqual([2, thisUpdate.toISOString(), expect.stringContaining("older")]);
      const next = new Date(nextUpdate.getTime() - 5 * 60_000);
      server.serve(path, { body: await signCrl(p.sslAc, { thisUpdate: next, nextUpdate: new Date(next.getTime() + HOUR) }) });
      now += 60_000;
      await s.refreshNow();
      expect([server.hits(path), sslAc(s)?.thisUpdate, sslAc(s)?.status]).toEqual([3, next.toISOString(), "fresh"]);
    } finally {
      await s.close();
    }
  });

  it("refuses a CRL dated in the future (thisUpdate beyond the clock's skew allowance)", async () => {
    const { s, path } = await service("future", () => T0);
    try {
      server.serve(path, { body: await signCrl(p.sslAc, { thisUpdate: new Date(T0 + HOUR), nextUpdate: new Date(T0 + 2 * HOUR) }) });
      await s.refreshNow();
      expect(sslAc(s)).toMatchObject({ status: "missing", lastError: expect.stringContaining("in the future") });
    } finally {
      await s.close();
    }
  });

  it("refuses a CRL larger than maxCrlBytes", async () => {
    const { s, path } = await service("too-large", () => T0, { maxCrlBytes: 1024 });
    try {
      const revoked = Array.from({ length: 60 }, (_, i) => ({ serial: (0x1000 + i).toString(16) }));
      server.serve(path, { body: await signCrl(p.sslAc, { revoked, thisUpdate, nextUpdate }) });
      await s.refreshNow();
      expect(sslAc(s)).toMatchObject({ status: "missing", lastError: expect.stringContaining("exceeds revocation.maxCrlBytes (1024)") });
    } finally {
      await s.close();
    }
  });

  it("mode off checks nothing and fetches nothing", () => {
    const s = createRevocationService(revocationSchema.parse({ mode: "off" }), { anchors: p.anchors, dispatcher, issuers: [p.sslAcInfo], store: createMemoryRevocationStore(), logger: captureLogger().logger, now: () => T0 });
    expect(s.check(revokedChain, T0)).toEqual({ ok: true });
    expect(s.state().acs).toEqual([]);
  });
});
