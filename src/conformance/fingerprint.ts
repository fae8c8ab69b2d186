import { createHash, X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { TestPkiManifest } from "../pki/test-pki/index.js";
import { sha256Hex } from "../pki/thumbprint.js";

/** What a conformance run was configured with, as a SHA-256 the report states (and the document it was taken of). */
export interface ConfigurationFingerprint {
  /** `sha256:` and 64 lowercase hex digits, of {@link fingerprinted} as canonical JSON (keys sorted, no spaces). */
  readonly sha256: string;
  /** What was fingerprinted, in words. */
  readonly of: string;
  /** The document itself: no secret, no key, no token, so it can travel with the report and be compared. */
  readonly fingerprinted: unknown;
}

/**
 * Configuration members that hold secrets or point at private keys: left out of every fingerprinted document.
 * The names are those of the configuration schema (`tls.key`, `keyPassphrase`, `clientSecret`, Redis passwords).
 */
const SECRET_KEYS: ReadonlySet<string> = new Set(["key", "keyPassphrase", "passphrase", "clientSecret", "secret", "password", "sentinelPassword", "token"]);

/** `scheme://[userinfo@]host[:port]`: the userinfo (credentials) and the port are dropped. */
const URL_AUTHORITY = /^([a-z][a-z0-9+.-]*:\/\/)(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)(?::\d+)?/i;

/** Fingerprints `document` (canonical JSON: object keys sorted at every level). */
export function fingerprintOf(of: string, document: unknown): ConfigurationFingerprint {
  const canonical = JSON.stringify(sortKeys(document));
  return Object.freeze({ sha256: `sha256:${createHash("sha256").update(canonical).digest("hex")}`, of, fingerprinted: JSON.parse(canonical) as unknown });
}

/**
 * The effective configuration of a local stack's edge, as a document that stays the same from one run to the next
 * when the configuration does: secrets and credentials removed, every `port` member and every URL's port removed
 * (a local stack listens on free ports), and the run's own names — its folders, its random Redis key prefix, the
 * fingerprints of the test PKI it generated — replaced by the labels `names` gives them (longest first).
 */
export function localConfigurationDocument(config: unknown, names: ReadonlyMap<string, string>): unknown {
  const ordered = [...names].filter(([value]) => value !== "").sort(([a], [b]) => b.length - a.length);
  const rename = (text: string) => ordered.reduce((t, [value, label]) => t.split(value).join(label), text);
  const walk = (value: unknown): unknown => {
    if (typeof value === "string") return rename(value.replace(URL_AUTHORITY, "$1$2"));
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(
        Object.entries(value)
          .filter(([k, v]) => !SECRET_KEYS.has(k) && !(k === "port" && typeof v === "number") && v !== undefined)
          .map(([k, v]) => [rename(k), walk(v)]),
      );
    }
    return value;
  };
  return walk(config);
}

/**
 * What differs from one local run to the next without being configuration: the run's folder and the test PKI's (paths),
 * the random Redis key prefix, the SHA-256 of every CA of the test PKI (`revocation.urls` keys), the bank's organisation id
 * and the signing keys' kids (`messageSigning`), each with the label
 * the fingerprinted document shows instead ({@link localConfigurationDocument}'s `names`).
 */
export async function localRunNames(o: { dir: string; pkiDir: string; pki: TestPkiManifest; keyPrefix: string }): Promise<Map<string, string>> {
  const names = new Map<string, string>([
    [o.pkiDir, "<test-pki>"],
    [o.dir, "<run>"],
    [o.keyPrefix, "<run-key-prefix>"],
  ]);
  for (const [name, ca] of Object.entries(o.pki.ca)) names.set(sha256Hex(new X509Certificate(await readFile(ca.cert)).raw), `<test-pki ${name}>`);
  // Signed messages: the bank's organisation id and the signing keys' kids are generated with the test PKI.
  names.set(o.pki.bank.organisationId, "<test-pki bank organisation>");
  for (const [name, key] of Object.entries(o.pki.signingKeys)) names.set(key.kid, `<test-pki signing key ${name}>`);
  return names;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, sortKeys(v)]),
    );
  }
  return value;
}
