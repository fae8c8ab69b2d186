import "reflect-metadata";
import { X509Certificate } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { isIssuedBy, parseCertInfo } from "../pki/certificate.js";
import { signTestCrl, testSerialOf } from "../pki/test-pki/crl.js";
import { loadTestCa, loadTestPki, MANIFEST_FILE, type TestPkiManifest } from "../pki/test-pki/index.js";
import type { TestCa } from "../pki/test-pki/certificate.js";

/** A CRL is signed again once it is this old, and says its next update comes a day after it was signed. */
const RESIGN_AFTER_MS = 3_600_000;
const VALID_FOR_MS = 86_400_000;
/** thisUpdate a minute back, for clocks a little behind the mock's. */
const BACKDATE_MS = 60_000;

/** The CRLs of a test PKI, as its CRL distribution points name them. TEST ONLY. */
export interface MockCrls {
  /** The DER of the CRL served at `path` (e.g. `/crl/ssl-ac.crl`), or undefined for any other path. */
  get(path: string, now: Date): Promise<Uint8Array | undefined>;
  /**
   * Each CA's SHA-256 (lowercase hex) and the path of its CRL: for `revocation.urls` when the mock is not at the
   * address the certificates name.
   */
  readonly paths: ReadonlyMap<string, string>;
}

interface Issuer {
  readonly ca: TestCa;
  /** Serials (hex, as @peculiar/x509 takes them) of the certificates the PKI marks revoked. */
  readonly revoked: readonly string[];
  signed?: { readonly at: number; readonly der: Promise<Uint8Array> };
}

/**
 * The CRLs of the test PKI whose Directory fixture is `fixtureDir` (`<pki>/directory`), or null when that folder has
 * no test PKI next to it. Every CA of the PKI gets one, at the path `ofb-edge pki init` wrote into the certificates
 * it issued (`crlBaseUrl` + the CA's name in kebab case, `sslAc` → `ssl-ac.crl`), signed with the CA's key; the
 * clients the PKI expects to be refused `CERT_REVOKED` are listed on their issuer's CRL.
 */
export async function loadMockCrls(fixtureDir: string): Promise<MockCrls | null> {
  const pkiDir = dirname(fixtureDir);
  if (!existsSync(join(pkiDir, MANIFEST_FILE))) return null;
  const manifest = await loadTestPki(pkiDir);
  const keys = Object.keys(manifest.ca) as (keyof TestPkiManifest["ca"])[];
  const cas = await Promise.all(keys.map(async (key) => ({ key, ca: await loadTestCa(manifest.ca[key]) })));
  const revokedLeaves = await Promise.all(
    Object.values(manifest.clients)
      .filter((c) => c.expect === "CERT_REVOKED")
      .map(async (c) => new X509Certificate(await readFile(c.cert)).raw),
  );
  const base = new URL(manifest.crlBaseUrl).pathname;
  const byPath = new Map<string, Issuer>();
  const paths = new Map<string, string>();
  for (const { key, ca } of cas) {
    const info = parseCertInfo(ca.der);
    const revoked = revokedLeaves.filter((der) => isIssuedBy(parseCertInfo(der), info)).map((der) => testSerialOf(der));
    const path = `${base}${crlName(key)}.crl`;
    byPath.set(path, { ca, revoked });
    paths.set(info.sha256, path);
  }
  return {
    paths,
    async get(path, now) {
      const issuer = byPath.get(path);
      if (!issuer) return undefined;
      if (!issuer.signed || now.getTime() - issuer.signed.at >= RESIGN_AFTER_MS) {
        const der = signTestCrl(issuer.ca, {
          thisUpdate: new Date(now.getTime() - BACKDATE_MS),
          nextUpdate: new Date(now.getTime() + VALID_FOR_MS),
          revoked: issuer.revoked.map((serial) => ({ serial })),
        });
        issuer.signed = { at: now.getTime(), der };
        // A failed signature is tried again on the next request rather than remembered.
        der.catch(() => (issuer.signed = undefined));
      }
      return issuer.signed.der;
    },
  };
}

/** The file name (without `.crl`) the test PKI gives a CA of its manifest: `sslAc` → `ssl-ac`. */
function crlName(caKey: keyof TestPkiManifest["ca"]): string {
  return caKey.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
