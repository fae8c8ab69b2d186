import * as x509 from "@peculiar/x509";
import { OCSPResponseStatus, id_kp_OCSPSigning, id_pkix_ocsp_nocheck } from "@peculiar/asn1-ocsp";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { webcrypto } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseCertInfo, type CertInfo } from "../../src/pki/certificate.js";
import { generateKeyPair, issueClientCertificate, testExtension, type IssuedCertificate, type LeafOptions } from "../../src/pki/test-pki/index.js";
import { revocationSchema, type RevocationConfigInput } from "../../src/revocation/config.js";
import { createRevocationService, type RevocationService } from "../../src/revocation/service.js";
import { createMemoryRevocationStore } from "../../src/revocation/store.js";
import { testPki } from "../helpers/edge.js";
import { startCrlServer, type CrlServer } from "./crl-server.js";
import { HOUR, captureLogger, revocationPki, serialOf, signCrl, type RevocationPki } from "./fixtures.js";
import { hex, startOcspResponder, type OcspHttpRoute, type OcspResponder, type OcspRoute } from "./ocsp-responder.js";
import { testDispatcher } from "../helpers/outbound.js";

const dispatcher = testDispatcher();

/**
 * OCSP first, CRL as the fallback (docs/architecture.md, decision D4), against a real responder on 127.0.0.1 whose
 * answers are signed with the test PKI's keys. Leaves are issued per test with an Authority Information Access
 * naming the test's own responder path; ssl-ac's CRL is served per test (or not at all).
 */

let p: RevocationPki;
let crls: CrlServer;
let responder: OcspResponder;
let keys: webcrypto.CryptoKeyPair;
/** Delegated responders issued by ssl-ac: with id-kp-OCSPSigning and nocheck, without nocheck, without the EKU, expired. */
let delegated: IssuedCertificate;
let delegatedChecked: IssuedCertificate;
let delegatedNoEku: IssuedCertificate;
let delegatedExpired: IssuedCertificate;
/** A port nothing listens on: a responder that is down. */
let downUrl: string;

const T0 = Math.floor(Date.now() / 1000) * 1000;
const thisUpdate = new Date(T0 - 60_000);
const nextUpdate = new Date(T0 + HOUR);
const revokedAt = new Date(T0 - 2 * HOUR);
const KEY_COMPROMISE = 1;

beforeAll(async () => {
  p = await revocationPki(await testPki());
  [crls, responder, keys] = await Promise.all([startCrlServer(), startOcspResponder(), generateKeyPair()]);
  const responderCert = (cn: string, o: Partial<LeafOptions>) => issueClientCertificate(p.sslAc, { subject: [{ "2.5.4.3": [cn] }], keys, crlDistributionPoints: null, ...o });
  [delegated, delegatedChecked, delegatedNoEku, delegatedExpired] = await Promise.all([
    responderCert("OCSP TESTE SSL", { extendedKeyUsage: [id_kp_OCSPSigning], extensions: [testExtension(id_pkix_ocsp_nocheck, false)] }),
    responderCert("OCSP TESTE SSL CHECKED", { extendedKeyUsage: [id_kp_OCSPSigning] }),
    responderCert("OCSP TESTE SSL NO EKU", {}),
    responderCert("OCSP TESTE SSL EXPIRED", { extendedKeyUsage: [id_kp_OCSPSigning], notBefore: new Date(T0 - 48 * HOUR), notAfter: new Date(T0 - HOUR) }),
  ]);
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
  downUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/ocsp`;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
});
afterAll(async () => {
  await crls?.close();
  await responder?.close();
});

const open: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of open.splice(0)) await close();
});

/** [leaf, ssl-ac, root] for a new leaf whose AIA names `ocspUrl` (none when null). */
async function chain(cn: string, ocspUrl: string | null): Promise<CertInfo[]> {
  const extensions = ocspUrl ? [new x509.AuthorityInfoAccessExtension({ ocsp: [new x509.GeneralName("url", ocspUrl)] })] : [];
  const leaf = await issueClientCertificate(p.sslAc, { subject: [{ "2.5.4.3": [cn] }], keys, crlDistributionPoints: null, extensions });
  return [parseCertInfo(leaf.der), p.sslAcInfo, p.rootInfo];
}

interface ServiceOptions {
  readonly config?: RevocationConfigInput;
  readonly ocsp?: Record<string, unknown>;
  /** Listed on ssl-ac's CRL; `null`: ssl-ac publishes no CRL (404). */
  readonly crlRevoked?: readonly CertInfo[] | null;
  readonly now?: () => number;
}

/** A service whose CRLs (ssl-ac's per `crlRevoked`, the root's empty) are in before it returns. */
async function service(tag: string, o: ServiceOptions = {}) {
  const path = (name: string) => `/ocsp-test/${tag}/${name}`;
  if (o.crlRevoked !== null) {
    crls.serve(path("ssl-ac.crl"), { body: await signCrl(p.sslAc, { thisUpdate, nextUpdate, revoked: (o.crlRevoked ?? []).map((c) => ({ serial: serialOf(c) })) }) });
  }
  crls.serve(path("root.crl"), { body: await signCrl(p.root, { thisUpdate, nextUpdate: new Date(T0 + 3 * HOUR) }) });
  const { logger, lines } = captureLogger();
  const config = revocationSchema.parse({
    fetchTimeoutMs: 2_000,
    ...o.config,
    urls: { [p.sslAcInfo.sha256]: [crls.url(path("ssl-ac.crl"))], [p.rootInfo.sha256]: [crls.url(path("root.crl"))] },
    ocsp: { enabled: true, timeoutMs: 1_000, ...o.ocsp },
  });
  const s = createRevocationService(config, { anchors: p.anchors, issuers: [p.sslAcInfo], store: createMemoryRevocationStore(), logger, now: o.now ?? (() => T0), dispatcher });
  open.push(() => s.close());
  await s.refreshNow();
  return { s, lines, url: (name: string) => responder.url(path(name)), path };
}

/** A good answer from ssl-ac itself for every serial but `revoked`. */
function answer(over: Partial<OcspRoute> = {}, revoked: readonly CertInfo[] = []): OcspRoute {
  return { signer: p.sslAc, thisUpdate, nextUpdate, revoked: Object.fromEntries(revoked.map((c) => [serialOf(c), { at: revokedAt, reason: KEY_COMPROMISE }])), ...over };
}

const ocspState = (s: RevocationService) => s.state().ocsp!;
const hitsFor = (path: string, c: CertInfo[]) => responder.received(path).filter((r) => r.serial === hex(serialOf(c[0]!))).length;

describe("OCSP answers decide", () => {
  it("good: the certificate passes without its CRL (hard-fail, none obtainable); a second connection asks nothing", async () => {
    const { s, url, path, lines } = await service("good", { config: { onStale: "hard-fail" }, crlRevoked: null });
    const c = await chain("good.test", url("ocsp"));
    responder.serve(path("ocsp"), answer());
    expect(s.check(c, T0)).toMatchObject({ ok: false, code: "CERT_REVOCATION_UNAVAILABLE", certIndex: 0 });
    await expect.poll(() => s.check(c, T0), { timeout: 5_000 }).toEqual({ ok: true });
    await s.prepare(c, T0);
    expect(s.check(c, T0)).toEqual({ ok: true });
    expect(responder.hits(path("ocsp"))).toBe(1);
    const [request] = responder.received(path("ocsp"));
    // RFC 5019 §2.1.1: SHA-1 CertID, POSTed as application/ocsp-request, no nonce unless configured.
    expect(request).toMatchObject({ hashAlgorithm: "1.3.14.3.2.26", contentType: "application/ocsp-request", nonce: null });
    expect(ocspState(s)).toMatchObject({ cacheSize: 1, requests: { good: 1, revoked: 0, unknown: 0, timeout: 0, error: 0 }, responders: [{ url: url("ocsp"), ac: p.sslAcInfo.label, lastOutcome: "good" }] });
    expect(JSON.stringify(lines)).not.toContain("BEGIN CERTIFICATE");
  });

  it("revoked: CERT_REVOKED naming OCSP, with the time and reason, though the CRL does not list it", async () => {
    const { s, url, path, lines } = await service("revoked");
    const c = await chain("revoked.test", url("ocsp"));
    responder.serve(path("ocsp"), answer({}, [c[0]!]));
    await s.prepare(c, T0);
    const verdict = s.check(c, T0);
    expect(verdict).toMatchObject({ ok: false, code: "CERT_REVOKED", certIndex: 0 });
    expect(!verdict.ok && verdict.detail).toBe(
      `certificate 0 ('revoked.test') was revoked at ${revokedAt.toISOString()}, reason keyCompromise (OCSP response signed by '${p.sslAcInfo.label}', thisUpdate ${thisUpdate.toISOString()})`,
    );
    expect(lines.some((l) => l.event === "ocsp-revoked" && l.reason === "keyCompromise" && l.url === url("ocsp"))).toBe(true);
    expect(ocspState(s).requests.revoked).toBe(1);
  });

  it("good does not clear a certificate its CRL lists (a revocation stays true)", async () => {
    const c = await chain("listed-good.test", responder.url("/ocsp-test/listed-good/ocsp"));
    const { s, path } = await service("listed-good", { crlRevoked: [c[0]!] });
    responder.serve(path("ocsp"), answer());
    await s.prepare(c, T0);
    expect(s.check(c, T0)).toMatchObject({ ok: false, code: "CERT_REVOKED", certIndex: 0, detail: expect.stringContaining(`(CRL of '${p.sslAcInfo.label}'`) });
    expect(ocspState(s).requests.good).toBe(1);
  });

  it("unknown: the CRL decides, whether it lists the certificate or not", async () => {
    const listed = await chain("unknown-listed.test", responder.url("/ocsp-test/unknown/ocsp"));
    const clean = await chain("unknown-clean.test", responder.url("/ocsp-test/unknown/ocsp"));
    const { s, path } = await service("unknown", { crlRevoked: [listed[0]!] });
    responder.serve(path("ocsp"), answer({ unknown: [serialOf(listed[0]!), serialOf(clean[0]!)] }));
    await Promise.all([s.prepare(listed, T0), s.prepare(clean, T0)]);
    expect(s.check(listed, T0)).toMatchObject({ ok: false, code: "CERT_REVOKED", detail: expect.stringContaining("CRL of") });
    expect(s.check(clean, T0)).toEqual({ ok: true });
    expect(ocspState(s).requests.unknown).toBe(2);
  });

  it("a delegated responder (id-kp-OCSPSigning, nocheck, issued by the AC, named by key or by name) is trusted", async () => {
    const byKey = await chain("delegated-key.test", responder.url("/ocsp-test/delegated/by-key"));
    const byName = await chain("delegated-name.test", responder.url("/ocsp-test/delegated/by-name"));
    const { s, path } = await service("delegated");
    responder.serve(path("by-key"), answer({ signer: delegated, certs: [delegated] }, [byKey[0]!]));
    responder.serve(path("by-name"), answer({ signer: delegated, certs: [delegated], responderId: "byName" }, [byName[0]!]));
    await Promise.all([s.prepare(byKey, T0), s.prepare(byName, T0)]);
    expect(s.check(byKey, T0)).toMatchObject({ code: "CERT_REVOKED", detail: expect.stringContaining("OCSP response signed by 'OCSP TESTE SSL'") });
    expect(s.check(byName, T0)).toMatchObject({ code: "CERT_REVOKED", detail: expect.stringContaining("OCSP response signed by 'OCSP TESTE SSL'") });
  });

  it("a delegated responder without nocheck answers while the AC's CRL does not list it, and is set aside once it does", async () => {
    const c = await chain("checked.test", responder.url("/ocsp-test/checked/ocsp"));
    const other = await chain("checked-listed.test", responder.url("/ocsp-test/checked-listed/ocsp"));
    const trusted = await service("checked");
    const distrusted = await service("checked-listed", { crlRevoked: [parseCertInfo(delegatedChecked.der)] });
    responder.serve(trusted.path("ocsp"), answer({ signer: delegatedChecked, certs: [delegatedChecked] }, [c[0]!]));
    responder.serve(distrusted.path("ocsp"), answer({ signer: delegatedChecked, certs: [delegatedChecked] }, [other[0]!]));
    await Promise.all([trusted.s.prepare(c, T0), distrusted.s.prepare(other, T0)]);
    expect(trusted.s.check(c, T0)).toMatchObject({ code: "CERT_REVOKED", detail: expect.stringContaining("OCSP response signed by 'OCSP TESTE SSL CHECKED'") });
    // RFC 6960 §4.2.2.2.1: the responder itself is on the CRL, so its answer is not used; the CRL does not list the leaf.
    expect(distrusted.s.check(other, T0)).toEqual({ ok: true });
    expect(distrusted.s.check(other, T0)).toEqual({ ok: true });
    expect(distrusted.lines.filter((l) => l.event === "ocsp-responder-revoked").map((l) => l.responder)).toEqual(["OCSP TESTE SSL CHECKED"]);
  });

  it("with nonce on, sends 32 random octets and accepts a response that echoes them or returns none", async () => {
    const echoed = await chain("nonce-echo.test", responder.url("/ocsp-test/nonce/echo"));
    const omitted = await chain("nonce-omit.test", responder.url("/ocsp-test/nonce/omit"));
    const { s, path } = await service("nonce", { ocsp: { nonce: true } });
    responder.serve(path("echo"), answer({}, [echoed[0]!]));
    responder.serve(path("omit"), answer({ nonce: "omit" }, [omitted[0]!]));
    await Promise.all([s.prepare(echoed, T0), s.prepare(omitted, T0)]);
    expect(s.check(echoed, T0)).toMatchObject({ code: "CERT_REVOKED" });
    expect(s.check(omitted, T0)).toMatchObject({ code: "CERT_REVOKED" });
    // extnValue: OCTET STRING (0x04), 32 octets (RFC 8954 §2.1).
    expect([...responder.received(path("echo"))[0]!.nonce!.subarray(0, 2)]).toEqual([0x04, 32]);
  });

  it("uses revocation.ocsp.responders for an AC's certificates, AIA or not; without either, no OCSP", async () => {
    const withoutAia = await chain("override.test", null);
    const { s, path } = await service("override", { ocsp: { responders: { [p.sslAcInfo.sha256]: responder.url("/ocsp-test/override/ocsp") } } });
    responder.serve(path("ocsp"), answer({}, [withoutAia[0]!]));
    await s.prepare(withoutAia, T0);
    expect(s.check(withoutAia, T0)).toMatchObject({ code: "CERT_REVOKED", detail: expect.stringContaining("OCSP") });

    const plain = await service("no-responder");
    await plain.s.prepare(withoutAia, T0);
    expect(plain.s.check(withoutAia, T0)).toEqual({ ok: true });
    expect(ocspState(plain.s)).toMatchObject({ cacheSize: 0, responders: [] });
  });
});

/** Each failure, with the error state() reports; the responder would say `revoked` for the clean certificate. */
const FAILURES: { name: string; route: () => OcspRoute | OcspHttpRoute | "down"; ocsp?: Record<string, unknown>; error: RegExp; outcome?: "timeout" }[] = [
  { name: "responder down", route: () => "down", error: /ECONNREFUSED/ },
  { name: "time-out", route: () => ({ hang: true }), ocsp: { timeoutMs: 300 }, error: /timed out after 300 ms/, outcome: "timeout" },
  { name: "HTTP 500", route: () => ({ status: 500 }), error: /^HTTP 500$/ },
  { name: "garbage body", route: () => ({ garbage: Buffer.from("<html>not an OCSP response</html>") }), error: /malformed OCSP response/ },
  { name: "responseStatus tryLater", route: () => answer({ responseStatus: OCSPResponseStatus.tryLater }), error: /responseStatus tryLater/ },
  { name: "signed by another AC's key", route: () => answer({ signer: p.otherAc }), error: /responderID names neither/ },
  { name: "claiming the AC but signed by another key", route: () => answer({ signer: p.otherAc, namedAs: p.sslAc }), error: /signature does not verify with the key of 'AC TESTE SSL EV G4'/ },
  { name: "a responder certificate another AC issued", route: () => answer({ signer: p.otherAc, certs: [p.otherAc] }), error: /is not issued by 'AC TESTE SSL EV G4'/ },
  { name: "delegated responder without id-kp-OCSPSigning", route: () => answer({ signer: delegatedNoEku, certs: [delegatedNoEku] }), error: /lacks the id-kp-OCSPSigning/ },
  { name: "expired delegated responder", route: () => answer({ signer: delegatedExpired, certs: [delegatedExpired] }), error: /is not valid at/ },
  { name: "mismatched CertID", route: () => answer({ certId: "other-serial" }), error: /no SingleResponse for the CertID asked about/ },
  { name: "expired response", route: () => answer({ thisUpdate: new Date(T0 - 2 * HOUR), nextUpdate: new Date(T0 - HOUR) }), error: /nextUpdate .* has passed/ },
  { name: "response from the future", route: () => answer({ thisUpdate: new Date(T0 + HOUR), nextUpdate: new Date(T0 + 2 * HOUR) }), error: /thisUpdate .* is in the future/ },
  { name: "no nextUpdate and older than maxAgeMs", route: () => answer({ thisUpdate: new Date(T0 - 2 * HOUR), nextUpdate: null }), error: /older than revocation.ocsp.maxAgeMs/ },
  { name: "nonce mismatch", route: () => answer({ nonce: "other" }), ocsp: { nonce: true }, error: /nonce is not the one sent/ },
];

describe("OCSP failures fall back to the CRL", () => {
  it.each(FAILURES)("$name: the CRL decides (the certificate it lists revoked, the other accepted)", async (f) => {
    const tag = `fail-${f.name.replace(/\W+/g, "-")}`;
    const route = f.route();
    const ocspUrl = route === "down" ? downUrl : responder.url(`/ocsp-test/${tag}/ocsp`);
    const [listed, clean] = await Promise.all([chain(`${tag}-listed.test`, ocspUrl), chain(`${tag}-clean.test`, ocspUrl)]);
    const { s, path, lines } = await service(tag, { crlRevoked: [listed[0]!], ...(f.ocsp ? { ocsp: f.ocsp } : {}) });
    if (route !== "down") responder.serve(path("ocsp"), "signer" in route ? { ...route, revoked: answer({}, [clean[0]!]).revoked! } : route);
    await Promise.all([s.prepare(listed, T0), s.prepare(clean, T0)]);
    expect(s.check(listed, T0)).toMatchObject({ ok: false, code: "CERT_REVOKED", certIndex: 0, detail: expect.stringContaining(`(CRL of '${p.sslAcInfo.label}'`) });
    expect(s.check(clean, T0)).toEqual({ ok: true });
    const state = ocspState(s);
    expect(state.requests[f.outcome ?? "error"]).toBe(2);
    expect(state.responders).toEqual([expect.objectContaining({ url: ocspUrl, lastOutcome: f.outcome ?? "error", lastError: expect.stringMatching(f.error) })]);
    // The responder's first failure is logged once (warn); the next certificate's at debug level.
    expect(lines.filter((l) => l.event === "ocsp-failed").map((l) => l.level)).toEqual(["warn", "debug"]);
  });
});

describe("OCSP cache", () => {
  it("concurrent first connections share one exchange (single-flight)", async () => {
    const c = await chain("single-flight.test", responder.url("/ocsp-test/single-flight/ocsp"));
    const { s, path } = await service("single-flight");
    responder.serve(path("ocsp"), answer({ delayMs: 200 }, [c[0]!]));
    await Promise.all([s.prepare(c, T0), s.prepare(c, T0), s.prepare(c, T0)]);
    expect(responder.hits(path("ocsp"))).toBe(1);
    expect(s.check(c, T0)).toMatchObject({ code: "CERT_REVOKED" });
  });

  it("remembers a failure for failureCacheMs: meanwhile the CRL decides without asking again", async () => {
    let now = T0;
    const c = await chain("failure-cache.test", responder.url("/ocsp-test/failure-cache/ocsp"));
    const { s, path } = await service("failure-cache", { ocsp: { failureCacheMs: 30_000 }, now: () => now });
    responder.serve(path("ocsp"), { status: 503 });
    await s.prepare(c, now);
    await s.prepare(c, now);
    expect(s.check(c, now)).toEqual({ ok: true });
    expect(responder.hits(path("ocsp"))).toBe(1);
    responder.serve(path("ocsp"), answer({}, [c[0]!]));
    now += 30_000;
    await s.prepare(c, now);
    expect(responder.hits(path("ocsp"))).toBe(2);
    expect(s.check(c, now)).toMatchObject({ code: "CERT_REVOKED" });
  });

  it("refreshes answers ahead of expiry for certificates in use only; an expired answer no longer decides", async () => {
    let now = T0;
    const used = await chain("refresh-used.test", responder.url("/ocsp-test/refresh/ocsp"));
    const idle = await chain("refresh-idle.test", responder.url("/ocsp-test/refresh/ocsp"));
    const { s, path } = await service("refresh", { config: { onStale: "hard-fail" }, crlRevoked: null, ocsp: { refreshBeforeMs: 5 * 60_000 }, now: () => now });
    responder.serve(path("ocsp"), answer());
    await Promise.all([s.prepare(used, now), s.prepare(idle, now)]);
    expect(s.check(used, now)).toEqual({ ok: true });
    now = nextUpdate.getTime() - 4 * 60_000;
    responder.serve(path("ocsp"), answer({ thisUpdate: new Date(now - 60_000), nextUpdate: new Date(now + HOUR) }));
    await s.refreshNow();
    expect([hitsFor(path("ocsp"), used), hitsFor(path("ocsp"), idle)]).toEqual([2, 1]);
    now = nextUpdate.getTime() + 1;
    expect(s.check(used, now)).toEqual({ ok: true });
    // The idle certificate's answer expired and its AC has no CRL: hard-fail (its exchange starts in the background).
    expect(s.check(idle, now)).toMatchObject({ ok: false, code: "CERT_REVOCATION_UNAVAILABLE", certIndex: 0 });
  });

  it("never replaces an answer with an older one (a lagging responder or a replay)", async () => {
    let now = T0;
    const c = await chain("older.test", responder.url("/ocsp-test/older/ocsp"));
    const { s, path } = await service("older", { now: () => now });
    responder.serve(path("ocsp"), answer());
    await s.prepare(c, now);
    expect(s.check(c, now)).toEqual({ ok: true });
    responder.serve(path("ocsp"), answer({ thisUpdate: new Date(T0 - 10 * 60_000), nextUpdate: new Date(T0 + 2 * HOUR) }, [c[0]!]));
    now = nextUpdate.getTime() - 60_000;
    await s.refreshNow();
    expect(responder.hits(path("ocsp"))).toBe(2);
    expect(s.check(c, now)).toEqual({ ok: true });
    expect(ocspState(s).responders[0]!.lastError).toMatch(/^older \(thisUpdate .*\) than the answer held/);
  });

  it("keeps at most cacheMaxEntries certificates", async () => {
    const { s, url } = await service("bounded", { ocsp: { cacheMaxEntries: 1 } });
    const chains = await Promise.all([chain("bounded-1.test", url("ocsp")), chain("bounded-2.test", url("ocsp"))]);
    responder.serve("/ocsp-test/bounded/ocsp", answer());
    for (const c of chains) await s.prepare(c, T0);
    expect(ocspState(s).cacheSize).toBe(1);
  });

  it("is off by default: a certificate with an OCSP URL is checked by CRL alone, and prepare() asks nothing", async () => {
    const c = await chain("off.test", responder.url("/ocsp-test/off/ocsp"));
    const s = createRevocationService(revocationSchema.parse({ urls: { [p.sslAcInfo.sha256]: [crls.url("/ocsp-test/off/ssl-ac.crl")] } }), {
      anchors: p.anchors,
      dispatcher,
      issuers: [p.sslAcInfo],
      store: createMemoryRevocationStore(),
      logger: captureLogger().logger,
      now: () => T0,
    });
    open.push(() => s.close());
    responder.serve("/ocsp-test/off/ocsp", answer({}, [c[0]!]));
    await s.prepare(c, T0);
    expect(s.check(c, T0)).toEqual({ ok: true });
    expect(responder.hits("/ocsp-test/off/ocsp")).toBe(0);
    expect(s.state().ocsp).toBeUndefined();
  });
});
