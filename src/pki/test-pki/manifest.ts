import { readFile } from "node:fs/promises";
import { isAbsolute, join, resolve } from "node:path";
import { z } from "zod";
import { ConfigError } from "../../errors.js";
import { testCaFromPem } from "./ca.js";
import type { TestCa } from "./certificate.js";

/** File name of the manifest inside the PKI directory. */
export const MANIFEST_FILE = "manifest.json";

/**
 * The manifest's layout version: 2 added the trust-anchor files, the v5-like hierarchy and per-file verdicts; 3 the
 * signing keys (application keystore) and the bank.
 */
export const TEST_PKI_VERSION = 3;

const relativePath = z
  .string()
  .min(1)
  .refine((path) => !isAbsolute(path) && !path.split(/[\\/]/).includes(".."), "must be a path relative to the PKI directory");

const certAndKey = z.strictObject({ cert: relativePath, key: relativePath });

const client = z.strictObject({
  cert: relativePath,
  chain: relativePath,
  key: relativePath,
  /** RFC 8705 `x5t#S256` of the leaf: base64url SHA-256, no padding. */
  thumbprint: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  /** Uppercase hex, as Node's `X509Certificate#serialNumber`. */
  serialNumber: z.string().regex(/^[0-9A-F]+$/),
  organisationId: z.string().nullable(),
  softwareStatementId: z.string().nullable(),
  cnpj: z.string().nullable(),
  /** `"accept"` or the reason code the edge must return, with `trustAnchors` (the root only). */
  expect: z.string().min(1),
  /** The same with each trust-anchor file of `anchorFiles`. */
  expectByAnchorFile: z.strictObject({ root: z.string().min(1), bundle: z.string().min(1), allRoots: z.string().min(1) }),
  description: z.string(),
  /** Where the key sits in the Directory keystore. */
  keystore: z.enum(["active", "inactive", "unregistered", "none"]),
});

/** A signing key (BRSEAL-like, under the v5-like AC): its files, organisation, published `kid` and keystore set. */
const signingKey = z.strictObject({
  cert: relativePath,
  key: relativePath,
  organisationId: z.string(),
  /** The `kid` the keystore publishes it under: `x5t#S256` of the certificate. */
  kid: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  /** `active`: in `<org>/application.jwks`; `inactive`: only in `<org>/inactive/application.jwks`. */
  status: z.enum(["active", "inactive"]),
});

/** Schema of `manifest.json`. Paths are relative to the PKI directory in the file. */
export const testPkiManifestSchema = z.strictObject({
  version: z.literal(TEST_PKI_VERSION),
  generatedAt: z.iso.datetime(),
  crlBaseUrl: z.url(),
  /** The root only (the same file as `anchorFiles.root`). */
  trustAnchors: relativePath,
  /**
   * The trust-anchor files: `root` (the root only), `bundle` (the root and its transport ACs, what
   * `ofb-edge trust fetch` writes) and `allRoots` (every root of the PKI: v10-like, v5-like and the other).
   */
  anchorFiles: z.strictObject({ root: relativePath, bundle: relativePath, allRoots: relativePath }),
  ca: z.strictObject({
    root: certAndKey,
    sslAc: certAndKey,
    expiredAc: certAndKey,
    nonCaIssuer: certAndKey,
    subAc: certAndKey,
    stringTypesAc: certAndKey,
    retiredAc: certAndKey,
    otherRoot: certAndKey,
    otherAc: certAndKey,
    v5Root: certAndKey,
    v5Ac: certAndKey,
  }),
  server: z.strictObject({ cert: relativePath, key: relativePath, hostnames: z.array(z.string()) }),
  clients: z.record(z.string(), client),
  /** Signing keys by name: participant-a, participant-a-inactive, participant-b and the bank's (`bank`). */
  signingKeys: z.record(z.string(), signingKey),
  /** The account holder in the Directory fixture: the bank whose signing key (`signingKeys.bank`) signs responses. */
  bank: z.strictObject({ organisationId: z.string(), name: z.string() }),
  directory: z.strictObject({
    participants: relativePath,
    roles: relativePath,
    keystore: relativePath,
    keystoreBaseUrl: z.url(),
  }),
});

/**
 * The test PKI manifest. As returned by `generateTestPki` and {@link loadTestPki}, every path is
 * absolute; in `manifest.json` they are relative to the PKI directory.
 */
export type TestPkiManifest = z.infer<typeof testPkiManifestSchema>;

/** Client entry of the manifest. */
export type TestPkiClient = TestPkiManifest["clients"][string];

/** The manifest with every path resolved against `dir`. */
export function resolveManifestPaths(manifest: TestPkiManifest, dir: string): TestPkiManifest {
  const at = (path: string) => resolve(dir, path);
  const pair = (p: { cert: string; key: string }) => ({ cert: at(p.cert), key: at(p.key) });
  return {
    ...manifest,
    trustAnchors: at(manifest.trustAnchors),
    anchorFiles: { root: at(manifest.anchorFiles.root), bundle: at(manifest.anchorFiles.bundle), allRoots: at(manifest.anchorFiles.allRoots) },
    ca: Object.fromEntries(Object.entries(manifest.ca).map(([name, files]) => [name, pair(files)])) as TestPkiManifest["ca"],
    server: { ...manifest.server, cert: at(manifest.server.cert), key: at(manifest.server.key) },
    clients: Object.fromEntries(
      Object.entries(manifest.clients).map(([name, entry]) => [
        name,
        { ...entry, cert: at(entry.cert), chain: at(entry.chain), key: at(entry.key) },
      ]),
    ),
    signingKeys: Object.fromEntries(Object.entries(manifest.signingKeys).map(([name, entry]) => [name, { ...entry, cert: at(entry.cert), key: at(entry.key) }])),
    directory: {
      ...manifest.directory,
      participants: at(manifest.directory.participants),
      roles: at(manifest.directory.roles),
      keystore: at(manifest.directory.keystore),
    },
  };
}

/**
 * Reads and validates `<dir>/manifest.json`; paths in the result are absolute.
 * @throws {ConfigError} naming the file and the JSON path of each problem.
 */
export async function loadTestPki(dir: string): Promise<TestPkiManifest> {
  const file = join(resolve(dir), MANIFEST_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, "utf8"));
  } catch (cause) {
    throw new ConfigError(file, [{ path: "", message: cause instanceof Error ? cause.message : String(cause) }]);
  }
  const parsed = testPkiManifestSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      file,
      parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join("."), message: issue.message })),
    );
  }
  return resolveManifestPaths(parsed.data, resolve(dir));
}

/**
 * Loads a CA of a loaded manifest (e.g. `pki.ca.sslAc`) to issue ad-hoc certificates under it.
 *
 * @example
 * const pki = await loadTestPki(dir);
 * const sslAc = await loadTestCa(pki.ca.sslAc, `${pki.crlBaseUrl}ssl-ac.crl`);
 * const { pem } = await issueClientCertificate(sslAc, { subject, notAfter: expiry });
 */
export async function loadTestCa(files: { readonly cert: string; readonly key: string }, crlUrl: string | null = null): Promise<TestCa> {
  const [certPem, keyPem] = await Promise.all([readFile(files.cert, "utf8"), readFile(files.key, "utf8")]);
  return testCaFromPem(certPem, keyPem, crlUrl);
}
