import { randomUUID, X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { embeddedConfig } from "../config/embedded.js";
import { parseConfig } from "../config/load.js";
import type { Config } from "../config/schema.js";
import { ConfigError } from "../errors.js";
import { generateTestPki, loadTestPki, MANIFEST_FILE, TEST_PKI_VERSION, type TestPkiManifest } from "../pki/test-pki/index.js";
import { startMockDirectory } from "../directory/mock.js";
import { startAuthorizationServerStub } from "./authorization-server.js";
import { DEMO_CLIENT, writeDemoToken } from "./demo-token.js";
import { startEchoBackend } from "./echo-backend.js";

/** The embedded default's port (README Quick start). */
export const EMBEDDED_PORT = 8443;

/** Regenerate the embedded test PKI when the demo client or server certificate expires within this window. */
const RENEW_BEFORE_MS = 7 * 24 * 3600 * 1000;

export interface EmbeddedDefault {
  readonly config: Config;
  readonly pkiDir: string;
  /** Whether this start generated the test PKI (first run, or the previous one was about to expire). */
  readonly generated: boolean;
  /** A ready-to-paste request through the whole pipeline with participant-a's certificate and a token bound to it. */
  readonly curl: string;
  /** The file holding that token (the README's second request presents it with another participant's certificate). */
  readonly tokenFile: string;
  readonly close: () => Promise<void>;
}

/**
 * `npm start` without a configuration: a local test PKI in `<stateDir>/pki` (generated on first run and renewed
 * before it expires), the built-in mock directory serving that PKI's Directory fixture and CRLs, the
 * authorization-server stub, the built-in echo backend, and a permissive listener on :8443 (on
 * `OFB_EDGE_EMBEDDED_HOST`, default 127.0.0.1) serving `/open-banking/` (mTLS, an Active participant and a bound
 * token required) and `/.well-known/` (mTLS optional).
 */
export async function startEmbeddedDefault(options: {
  readonly stateDir: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly now: Date;
  readonly cwd: string;
}): Promise<EmbeddedDefault> {
  const pkiDir = join(resolve(options.stateDir), "pki");
  const present = existsSync(join(pkiDir, MANIFEST_FILE));
  // A test PKI of an older layout (manifest version) is generated anew, like one about to expire.
  const current = present ? await loadTestPki(pkiDir).catch((err: unknown) => (err instanceof ConfigError && outdated(pkiDir) ? null : Promise.reject(err))) : null;
  const usable = current !== null && !expiresSoon(current, options.now);
  const manifest = usable ? current : await generateTestPki({ out: pkiDir, force: present, now: options.now });
  const backend = await startEchoBackend();
  const directory = await startMockDirectory({ fixtureDir: join(pkiDir, "directory"), host: "127.0.0.1", port: 0 });
  const authorizationServer = await startAuthorizationServerStub({ host: "127.0.0.1", port: 0 });
  const close = async () => {
    await Promise.all([backend.close(), directory.close(), authorizationServer.close()]);
  };
  let config: Config;
  try {
    config = parseConfig(
      embeddedConfig({
        serverCert: manifest.server.cert,
        serverKey: manifest.server.key,
        trustAnchors: manifest.trustAnchors,
        transportRoot: manifest.ca.root.cert,
        upstream: backend.url,
        port: EMBEDDED_PORT,
        host: options.env.OFB_EDGE_EMBEDDED_HOST || "127.0.0.1",
        directory: { participantsUrl: directory.participantsUrl, keystoreUrl: directory.keystoreUrl, crlUrls: directory.crlUrls },
        issuer: authorizationServer.issuer,
        bank: { organisationId: manifest.bank.organisationId, keyFile: manifest.signingKeys.bank!.key, kid: manifest.signingKeys.bank!.kid },
      }),
      { file: "(embedded default)", baseDir: options.cwd, env: options.env },
    );
  } catch (cause) {
    await close();
    throw cause;
  }
  const client = manifest.clients[DEMO_CLIENT]!;
  const { token, file: tokenFile } = await writeDemoToken({ stub: authorizationServer, pki: manifest, tokensDir: join(resolve(options.stateDir), "tokens"), now: options.now });
  const shown = (p: string) => (relative(options.cwd, p).startsWith("..") ? p : relative(options.cwd, p));
  const curl = [
    "curl --cacert",
    shown(manifest.trustAnchors),
    "--cert",
    shown(client.chain),
    "--key",
    shown(client.key),
    "-H",
    `'x-fapi-interaction-id: ${randomUUID()}'`,
    "-H",
    `'Authorization: Bearer ${token}'`,
    `https://localhost:${config.listeners[0]!.port}/open-banking/accounts/v2/accounts`,
  ].join(" ");
  return { config, pkiDir, generated: !usable, curl, tokenFile, close };
}

/** True when the manifest in `dir` is readable JSON of another layout version than this release writes. */
function outdated(dir: string): boolean {
  try {
    const { version } = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), "utf8")) as { version?: unknown };
    return version !== TEST_PKI_VERSION;
  } catch {
    return false;
  }
}

function expiresSoon(manifest: TestPkiManifest, now: Date): boolean {
  const files = [manifest.server.cert, manifest.clients["participant-a"]?.cert];
  return files.some((file) => {
    if (file === undefined || !existsSync(file)) return true;
    const notAfter = new Date(new X509Certificate(readFileSync(file)).validTo).getTime();
    return notAfter - now.getTime() < RENEW_BEFORE_MS;
  });
}
