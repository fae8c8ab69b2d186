import * as x509 from "@peculiar/x509";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CertInfo } from "../../src/pki/certificate.js";
import { revocationSchema, type RevocationConfigInput } from "../../src/revocation/config.js";
import { createRevocationService, type RevocationService } from "../../src/revocation/service.js";
import { createMemoryRevocationStore } from "../../src/revocation/store.js";
import { testPki } from "../helpers/edge.js";
import { testDispatcher } from "../helpers/outbound.js";
import { startCrlServer, type CrlServer } from "./crl-server.js";
import { captureLogger, revocationPki, serialOf, signCrl, type RevocationPki } from "./fixtures.js";

const dispatcher = testDispatcher();

/**
 * Where an AC's CRL comes from: a distribution point serving several CRLs in one PEM body, and a local file
 * competing with a distribution point — the newest CRL (thisUpdate, RFC 5280 §5.1.2.4) wins whatever its source.
 */

let p: RevocationPki;
let server: CrlServer;
let dir: string;
let revokedChain: CertInfo[];
let goodChain: CertInfo[];
const T0 = Math.floor(Date.now() / 1000) * 1000;
const pem = (...ders: Uint8Array[]) => new TextEncoder().encode(ders.map((d) => x509.PemConverter.encode(d.slice().buffer as ArrayBuffer, "X509 CRL")).join("\n"));
const at = (minutes: number) => new Date(T0 + minutes * 60_000);

beforeAll(async () => {
  [p, server, dir] = await Promise.all([testPki().then(revocationPki), startCrlServer(), mkdtemp(join(tmpdir(), "ofb-edge-crl-sources-"))]);
  [revokedChain, goodChain] = await Promise.all([p.chain("revoked"), p.chain("participant-a")]);
  server.serve("/sources/root.crl", { body: await signCrl(p.root, { thisUpdate: at(-1), nextUpdate: at(600) }) });
});
afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function service(acPath: string, config: RevocationConfigInput = {}, now: () => number = () => T0): RevocationService {
  const urls = { [p.sslAcInfo.sha256]: [server.url(acPath)], [p.rootInfo.sha256]: [server.url("/sources/root.crl")] };
  return createRevocationService(revocationSchema.parse({ ...config, urls }), { anchors: p.anchors, dispatcher, issuers: [p.sslAcInfo], store: createMemoryRevocationStore(), logger: captureLogger().logger, now });
}
const sslAc = (s: RevocationService) => s.state().acs.find((a) => a.sha256 === p.sslAcInfo.sha256);

describe("a downloaded body with several PEM CRLs", () => {
  it("uses the CRL the AC issued, though another AC's comes first", async () => {
    const root = await signCrl(p.root, { thisUpdate: at(-1), nextUpdate: at(60) });
    const ac = await signCrl(p.sslAc, { thisUpdate: at(-1), nextUpdate: at(60), revoked: [{ serial: serialOf(revokedChain[0]!) }] });
    server.serve("/sources/bundle.pem", { body: pem(root, ac) });
    const s = service("/sources/bundle.pem");
    try {
      await s.refreshNow();
      expect(sslAc(s)).toMatchObject({ status: "fresh", serials: 1, source: server.url("/sources/bundle.pem") });
      expect(s.check(revokedChain, T0)).toMatchObject({ ok: false, code: "CERT_REVOKED", certIndex: 0 });
      expect(s.check(goodChain, T0)).toEqual({ ok: true });
    } finally {
      await s.close();
    }
  });

  it("names the AC when none of the CRLs is its", async () => {
    server.serve("/sources/others.pem", { body: pem(await signCrl(p.root, { thisUpdate: at(-1), nextUpdate: at(60) }), await signCrl(p.otherAc, { thisUpdate: at(-1), nextUpdate: at(60) })) });
    const s = service("/sources/others.pem", { onStale: "hard-fail" });
    try {
      await s.refreshNow();
      expect(sslAc(s)?.lastError).toContain(`none of the 2 CRLs in the body names '${p.sslAcInfo.label}' as its issuer`);
    } finally {
      await s.close();
    }
  });
});

describe("a local file and a distribution point for the same AC", () => {
  it("the newer CRL wins whatever its source; an older one from either is kept out", async () => {
    let now = T0;
    const file = join(dir, "ssl-ac.crl");
    const fileUrl = pathToFileURL(file).href;
    // The distribution point has thisUpdate −10 min; the file an older CRL that lists the revoked client.
    server.serve("/sources/ac.crl", { body: await signCrl(p.sslAc, { thisUpdate: at(-10), nextUpdate: at(60) }) });
    await writeFile(file, await signCrl(p.sslAc, { thisUpdate: at(-20), nextUpdate: at(60), revoked: [{ serial: serialOf(revokedChain[0]!) }] }));
    const s = service("/sources/ac.crl", { crlFiles: [file], minRefreshIntervalMs: 60_000 }, () => now);
    try {
      await s.start();
      expect(sslAc(s)).toMatchObject({ source: server.url("/sources/ac.crl"), thisUpdate: at(-10).toISOString(), file });
      expect(s.check(revokedChain, now)).toEqual({ ok: true });

      // A newer CRL dropped into the file wins over the downloaded one.
      await writeFile(file, await signCrl(p.sslAc, { thisUpdate: at(-5), nextUpdate: at(90), revoked: [{ serial: serialOf(revokedChain[0]!) }] }));
      await s.refreshNow();
      expect(sslAc(s)).toMatchObject({ source: fileUrl, thisUpdate: at(-5).toISOString() });
      expect(s.check(revokedChain, now)).toMatchObject({ ok: false, code: "CERT_REVOKED" });

      // Near the file CRL's nextUpdate the distribution point is asked again: its newer CRL wins in turn.
      server.serve("/sources/ac.crl", { body: await signCrl(p.sslAc, { thisUpdate: at(80), nextUpdate: at(200) }) });
      now = at(85).getTime();
      await s.refreshNow();
      expect(sslAc(s)).toMatchObject({ source: server.url("/sources/ac.crl"), thisUpdate: at(80).toISOString() });
      expect(s.check(revokedChain, now)).toEqual({ ok: true });
    } finally {
      await s.close();
    }
  });
});
