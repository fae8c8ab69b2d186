import { access, chmod, mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { x5tS256 } from "../thumbprint.js";
import type { IssuedClient } from "./clients.js";
import { issueClients } from "./clients.js";
import { participantsFixture, rolesFixture, testBank } from "./directory-fixture.js";
import { createHierarchy, type TestHierarchy } from "./hierarchy.js";
import { KEYSTORE_DIR, keystoreFixture, type FixtureFile } from "./keystore.js";
import { MANIFEST_FILE, resolveManifestPaths, TEST_PKI_VERSION, testPkiManifestSchema, type TestPkiManifest } from "./manifest.js";
import { applicationKeystoreFixture, issueSigningKeys, type IssuedSigningKey, type TestBank } from "./signing.js";

/** Options of {@link generateTestPki}. */
export interface GenerateTestPkiOptions {
  /** Output directory; created if missing. */
  readonly out: string;
  /** Reference time for every validity period (default: the current time). */
  readonly now?: Date;
  /** Base URL of the CRLs named in CRL distribution points; default `http://127.0.0.1:8480/crl/`. */
  readonly crlBaseUrl?: string;
  /** Base URL of the keystore in JWK `x5u` members; default `http://127.0.0.1:8480/keystore/`. */
  readonly keystoreBaseUrl?: string;
  /** DNS names added to the server certificate's SAN besides `localhost`. */
  readonly hostnames?: readonly string[];
  /** Replace an existing PKI in `out` (its generated folders are removed first). */
  readonly force?: boolean;
}

/** Folders this generator owns inside `out`; `force` removes only these and the manifest. */
const OWNED_PATHS = ["ca", "other-ca", "v5-ca", "server", "clients", "signing", "directory", MANIFEST_FILE];

const HOSTNAME = /^(?=.{1,253}$)(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

function baseUrl(value: string, option: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`${option} must be an absolute http(s) URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(`${option} must be an http(s) URL, got ${JSON.stringify(value)}`);
  }
  // File names are appended to the base, so it must end with "/".
  return url.href.endsWith("/") ? url.href : `${url.href}/`;
}

interface Output {
  readonly path: string;
  readonly content: string;
  readonly secret?: boolean;
}

function pems(...pemTexts: readonly string[]): string {
  return pemTexts.map((pem) => (pem.endsWith("\n") ? pem : `${pem}\n`)).join("");
}

function caOutputs(h: TestHierarchy): Output[] {
  const pair = (path: string, ca: { pem: string; keyPem: string }): Output[] => [
    { path: `${path}.pem`, content: pems(ca.pem) },
    { path: `${path}.key.pem`, content: ca.keyPem, secret: true },
  ];
  return [
    ...pair("ca/root", h.root),
    ...pair("ca/ssl-ac", h.sslAc),
    ...pair("ca/expired-ac", h.expiredAc),
    ...pair("ca/non-ca-issuer", h.nonCaIssuer),
    ...pair("ca/sub-ac", h.subAc),
    ...pair("ca/string-types-ac", h.stringTypesAc),
    ...pair("ca/retired-ac", h.retiredAc),
    ...pair("other-ca/root", h.otherRoot),
    ...pair("other-ca/ac", h.otherAc),
    ...pair("v5-ca/root", h.v5Root),
    ...pair("v5-ca/ac", h.v5Ac),
    // The three trust-anchor files an operator may load: the root; the root and its transport ACs (what
    // `ofb-edge trust fetch` writes; retired-ac left out, as ITI drops ACs); every root of the PKI.
    { path: ANCHOR_FILES.root, content: pems(h.root.pem) },
    { path: ANCHOR_FILES.bundle, content: pems(h.root.pem, h.sslAc.pem, h.stringTypesAc.pem) },
    { path: ANCHOR_FILES.allRoots, content: pems(h.root.pem, h.v5Root.pem, h.otherRoot.pem) },
    // The chain the server sends: leaf then its AC (OFB certificate standard: "sent with the intermediate").
    { path: "server/cert.pem", content: pems(h.server.pem, h.sslAc.pem) },
    { path: "server/key.pem", content: h.server.keyPem, secret: true },
  ];
}

function clientOutputs(client: IssuedClient): Output[] {
  const dir = `clients/${client.spec.name}`;
  return [
    { path: `${dir}/cert.pem`, content: pems(client.leaf.pem) },
    { path: `${dir}/chain.pem`, content: pems(client.leaf.pem, ...client.issuers.map((ca) => ca.pem)) },
    { path: `${dir}/key.pem`, content: client.leaf.keyPem, secret: true },
  ];
}

function signingOutputs(key: IssuedSigningKey): Output[] {
  const dir = `signing/${key.spec.name}`;
  return [
    { path: `${dir}/cert.pem`, content: pems(key.certificate.pem) },
    { path: `${dir}/key.pem`, content: key.certificate.keyPem, secret: true },
  ];
}

/** Where each trust-anchor file is written, relative to the PKI directory. */
const ANCHOR_FILES = { root: "ca/trust-anchors.pem", bundle: "ca/transport-bundle.pem", allRoots: "ca/all-roots.pem" } as const;

function manifestOf(input: {
  now: Date;
  crlBaseUrl: string;
  keystoreBaseUrl: string;
  hostnames: readonly string[];
  clients: readonly IssuedClient[];
  signingKeys: readonly IssuedSigningKey[];
  bank: TestBank;
}): TestPkiManifest {
  const pair = (path: string) => ({ cert: `${path}.pem`, key: `${path}.key.pem` });
  return testPkiManifestSchema.parse({
    version: TEST_PKI_VERSION,
    generatedAt: input.now.toISOString(),
    crlBaseUrl: input.crlBaseUrl,
    trustAnchors: ANCHOR_FILES.root,
    anchorFiles: ANCHOR_FILES,
    ca: {
      root: pair("ca/root"),
      sslAc: pair("ca/ssl-ac"),
      expiredAc: pair("ca/expired-ac"),
      nonCaIssuer: pair("ca/non-ca-issuer"),
      subAc: pair("ca/sub-ac"),
      stringTypesAc: pair("ca/string-types-ac"),
      retiredAc: pair("ca/retired-ac"),
      otherRoot: pair("other-ca/root"),
      otherAc: pair("other-ca/ac"),
      v5Root: pair("v5-ca/root"),
      v5Ac: pair("v5-ca/ac"),
    },
    server: { cert: "server/cert.pem", key: "server/key.pem", hostnames: ["localhost", ...input.hostnames] },
    clients: Object.fromEntries(
      input.clients.map((client) => [
        client.spec.name,
        {
          cert: `clients/${client.spec.name}/cert.pem`,
          chain: `clients/${client.spec.name}/chain.pem`,
          key: `clients/${client.spec.name}/key.pem`,
          thumbprint: x5tS256(client.leaf.der),
          serialNumber: client.leaf.cert.serialNumber.toUpperCase(),
          organisationId: client.identity.organisationId,
          softwareStatementId: client.identity.softwareStatementId,
          cnpj: client.identity.cnpj,
          expect: client.spec.expect,
          expectByAnchorFile: { root: client.spec.expect, bundle: client.spec.expectWith?.bundle ?? client.spec.expect, allRoots: client.spec.expectWith?.allRoots ?? client.spec.expect },
          description: client.spec.description,
          keystore: client.spec.keystore,
        },
      ]),
    ),
    signingKeys: Object.fromEntries(
      input.signingKeys.map((k) => [k.spec.name, { cert: `signing/${k.spec.name}/cert.pem`, key: `signing/${k.spec.name}/key.pem`, organisationId: k.organisationId, kid: k.kid, status: k.spec.status }]),
    ),
    bank: { organisationId: input.bank.organisationId, name: input.bank.name },
    directory: {
      participants: "directory/participants.json",
      roles: "directory/roles.json",
      keystore: KEYSTORE_DIR,
      keystoreBaseUrl: input.keystoreBaseUrl,
    },
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

async function writeOutputs(out: string, outputs: readonly (Output | FixtureFile)[]): Promise<void> {
  const dirs = new Set(outputs.map((output) => dirname(join(out, output.path))));
  await Promise.all([...dirs].map((dir) => mkdir(dir, { recursive: true })));
  await Promise.all(
    outputs.map(async (output) => {
      const path = join(out, output.path);
      const secret = "secret" in output && output.secret === true;
      await writeFile(path, output.content, { mode: secret ? 0o600 : 0o644 });
      // writeFile's mode applies only when it creates the file; chmod also covers a file replaced with `force`.
      if (secret) {
        await chmod(path, 0o600);
      }
    }),
  );
}

/** `out` already holds a test PKI (its manifest) and `force` was not set: nothing was written. */
export class TestPkiExistsError extends Error {
  constructor(readonly manifestPath: string) {
    super(`${manifestPath} already exists; set force to overwrite`);
    this.name = "TestPkiExistsError";
  }
}

/**
 * Generates the ICP-Brasil-shaped test PKI, every bad-case client certificate and a consistent OFB
 * Directory fixture under `options.out`, then writes `manifest.json` last.
 *
 * @returns the manifest, with absolute paths.
 * @throws {TypeError} for an invalid option; {@link TestPkiExistsError} if `out` already holds a manifest and `force` is not set.
 */
export async function generateTestPki(options: GenerateTestPkiOptions): Promise<TestPkiManifest> {
  const out = resolve(options.out);
  const now = options.now ?? new Date();
  if (Number.isNaN(now.getTime())) {
    throw new TypeError("now must be a valid Date");
  }
  const crlBaseUrl = baseUrl(options.crlBaseUrl ?? "http://127.0.0.1:8480/crl/", "crlBaseUrl");
  const keystoreBaseUrl = baseUrl(options.keystoreBaseUrl ?? "http://127.0.0.1:8480/keystore/", "keystoreBaseUrl");
  const hostnames = options.hostnames ?? [];
  const badHost = hostnames.find((name) => !HOSTNAME.test(name));
  if (badHost !== undefined) {
    throw new TypeError(`hostname ${JSON.stringify(badHost)} is not a DNS name`);
  }
  const manifestPath = join(out, MANIFEST_FILE);
  if (await exists(manifestPath)) {
    if (options.force !== true) {
      throw new TestPkiExistsError(manifestPath);
    }
    await Promise.all(OWNED_PATHS.map((path) => rm(join(out, path), { recursive: true, force: true })));
  }

  const building = createHierarchy({ now, crlBaseUrl, hostnames });
  const bank = testBank();
  const [hierarchy, clients] = await Promise.all([building, issueClients(building, now)]);
  const signingKeys = await issueSigningKeys(building, clients, bank, now);
  const participants = participantsFixture(clients, now, bank);
  const keystore = [...(await keystoreFixture(clients, keystoreBaseUrl)), ...(await applicationKeystoreFixture(signingKeys, keystoreBaseUrl))];
  const manifest = manifestOf({ now, crlBaseUrl, keystoreBaseUrl, hostnames, clients, signingKeys, bank });

  await writeOutputs(out, [
    ...caOutputs(hierarchy),
    ...clients.flatMap(clientOutputs),
    ...signingKeys.flatMap(signingOutputs),
    { path: "directory/participants.json", content: `${JSON.stringify(participants, null, 2)}\n` },
    { path: "directory/roles.json", content: `${JSON.stringify(rolesFixture(participants), null, 2)}\n` },
    ...keystore,
  ]);
  await writeFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  return resolveManifestPaths(manifest, out);
}
