import { randomUUID, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { importPKCS8, SignJWT, type JWK } from "jose";
import { pemCertificateBlocks } from "../pki/anchors.js";
import { loadTestPki, messageSigner, type TestMessageSigner } from "../pki/test-pki/index.js";
import { sha256Hex } from "../pki/thumbprint.js";
import { credentialsFromFiles, credentialsFromPki } from "./credentials.js";
import type { ClientCredentials, Environment, SignedMessages, TokenIssuer } from "./environment.js";
import { fingerprintOf } from "./fingerprint.js";
import { httpRecorderClient } from "./recorder.js";
import { ScenarioSkipped, type Capability } from "./scenario.js";

/** What an operator supplies to run the suite against a deployment (`ofb-edge conformance --target …`). */
export interface TargetOptions {
  /** `https://host:port` of the edge's mTLS listener. */
  readonly target: string;
  /** SNI and expected server name; default the URL's host. */
  readonly servername?: string;
  /** PEM bundle trusted for the server certificate; default Node's bundled CAs. */
  readonly caFile?: string;
  /** Do not verify the server certificate (staging with a private CA you don't have at hand). */
  readonly insecure?: boolean;
  readonly clientCert?: string;
  readonly clientKey?: string;
  /** An access token bound to `clientCert` (or `tokenFile`). */
  readonly token?: string;
  readonly tokenFile?: string;
  readonly client2Cert?: string;
  readonly client2Key?: string;
  readonly token2?: string;
  readonly token2File?: string;
  /** A test PKI directory (`ofb-edge pki init`) the deployment trusts and whose Directory fixture it uses. */
  readonly pki?: string;
  /** Control URL of `ofb-edge conformance recorder` running as the deployment's backend. */
  readonly recorder?: string;
  /** PKCS#8 PEM key the deployment's authorization-server configuration trusts, with its issuer (and kid, alg). */
  readonly tokenIssuerKey?: string;
  readonly tokenIssuer?: string;
  readonly tokenIssuerKid?: string;
  readonly tokenIssuerAlg?: string;
  /** A certificate (and key) on the deployment's deny list. */
  readonly deniedCert?: string;
  readonly deniedKey?: string;
  /** A route that requires `scope` in the token (with tokenIssuerKey: the insufficient_scope scenario). */
  readonly scopedPath?: string;
  readonly scope?: string;
  /** A route whose per-participant limit a burst exceeds, and one whose global ceiling a concurrent burst exceeds. */
  readonly limitedPath?: string;
  readonly overloadedPath?: string;
  readonly accountsPath?: string;
  readonly paymentsPath?: string;
  readonly publicPath?: string;
  /** Speak HTTP/2 (ALPN h2) to the deployment instead of HTTP/1.1. */
  readonly http2?: boolean;
  /** participant-a's message signing key (PKCS#8 PEM) and the kid its organisation's application.jwks publishes it under. */
  readonly signingKey?: string;
  readonly signingKid?: string;
  /** A verify-and-sign route (POST) and the base URL the bank publishes (a message's aud); default the target's origin. */
  readonly signedPath?: string;
  readonly publicBaseUrl?: string;
  /** The bank's application.jwks (as the Directory publishes it) and its organisation id: response signatures verified. */
  readonly bankJwks?: string;
  readonly bankOrganisationId?: string;
}

/** Target mode (issue 7): the deployment under test and what the operator supplied; the rest is skipped by capability. */
export async function targetEnvironment(o: TargetOptions): Promise<Environment> {
  let url: URL;
  try {
    url = new URL(o.target);
  } catch {
    throw new Error(`--target: '${o.target}' is not a URL (https://host:port)`);
  }
  if (url.protocol !== "https:") throw new Error(`--target: ${o.target} must be an https:// URL`);
  const pair = (cert: string | undefined, key: string | undefined, what: string) => {
    if ((cert === undefined) !== (key === undefined)) throw new Error(`${what}: give both the certificate and the key`);
    return cert !== undefined && key !== undefined ? { cert, key } : undefined;
  };
  const pki = o.pki ? await loadTestPki(o.pki) : undefined;
  const fromPki = pki ? credentialsFromPki(pki) : undefined;
  const named = new Map<string, ClientCredentials>();
  const client = pair(o.clientCert, o.clientKey, "--client-cert/--client-key");
  if (client) named.set("participant-a", credentialsFromFiles("participant-a", client.cert, client.key));
  const client2 = pair(o.client2Cert, o.client2Key, "--client2-cert/--client2-key");
  if (client2) named.set("participant-b", credentialsFromFiles("participant-b", client2.cert, client2.key));
  const denied = pair(o.deniedCert, o.deniedKey, "--denied-cert/--denied-key");
  if (denied) named.set("denied", credentialsFromFiles("denied", denied.cert, denied.key));
  const credentials = (name: string) => named.get(name) ?? (name === "denied" ? undefined : fromPki?.(name));

  const issuer = o.tokenIssuerKey ? await keyIssuer(o) : undefined;
  const tokens = new Map<string, string>();
  const token = o.token ?? (o.tokenFile ? readFileSync(o.tokenFile, "utf8").trim() : undefined);
  const token2 = o.token2 ?? (o.token2File ? readFileSync(o.token2File, "utf8").trim() : undefined);
  if (token !== undefined) tokens.set("participant-a", token);
  if (token2 !== undefined) tokens.set("participant-b", token2);

  const capabilities = new Set<Capability>();
  const has = (name: string) => credentials(name) !== undefined;
  if (has("participant-a")) capabilities.add("client");
  if (has("participant-a") && (tokens.has("participant-a") || issuer)) capabilities.add("token");
  if (has("participant-b") && (tokens.has("participant-b") || issuer)) capabilities.add("second-client");
  if (fromPki) capabilities.add("test-pki");
  if (o.recorder) capabilities.add("recorder");
  if (issuer) capabilities.add("token-issuer");
  if (named.has("denied")) capabilities.add("deny-list");
  if ((o.scopedPath === undefined) !== (o.scope === undefined)) throw new Error("--scoped-path and --scope go together");
  if (o.scopedPath !== undefined && issuer) capabilities.add("scopes");
  if (o.limitedPath !== undefined && has("participant-a")) capabilities.add("participant-limit");
  if (o.overloadedPath !== undefined && has("participant-a")) capabilities.add("global-limit");

  const messages = await signedMessages(o, url, credentials("participant-a"));
  if (messages?.signer && capabilities.has("token")) capabilities.add("message-signer");
  if (messages?.bank) capabilities.add("bank-keys");

  const port = Number(url.port || 443);
  const paths = {
    accounts: o.accountsPath ?? "/open-banking/accounts/v2/accounts",
    payments: o.paymentsPath ?? "/open-banking/payments/v4/pix/payments",
    public: o.publicPath ?? "/.well-known/openid-configuration",
  };
  const notes = [
    ...(o.recorder ? [] : ["no --recorder: negative scenarios check the edge's answer but cannot observe that the backend received nothing"]),
    ...(o.insecure ? ["--insecure: the server certificate was not verified"] : []),
  ];
  return {
    mode: "target",
    protocol: o.http2 ? "http2" : "http1.1",
    description: `deployment at ${url.host}${o.http2 ? " over HTTP/2" : ""}${o.pki ? `, test PKI ${o.pki}` : ""}${o.recorder ? `, backend recorder ${o.recorder}` : ""}`,
    target: {
      host: url.hostname.replace(/^\[|\]$/g, ""),
      port,
      servername: o.servername ?? url.hostname,
      ...(o.caFile ? { ca: readFileSync(o.caFile) } : {}),
      verifyServer: !o.insecure,
      url: url.origin,
    },
    paths,
    capabilities,
    ...(o.scopedPath !== undefined && o.scope !== undefined ? { scoped: { path: o.scopedPath, scope: o.scope } } : {}),
    limited: { ...(o.limitedPath !== undefined && { participant: o.limitedPath }), ...(o.overloadedPath !== undefined && { global: o.overloadedPath }) },
    credentials,
    boundToken: async (name) => {
      const given = tokens.get(name);
      if (given !== undefined) return given;
      const c = credentials(name);
      if (!issuer || !c) throw new ScenarioSkipped(`no access token bound to '${name}' (--token/--token2, or --token-issuer-key to mint one)`);
      return issuer.jwt({ thumbprint: c.thumbprint, claims: { ...(c.softwareStatementId ? { client_id: c.softwareStatementId } : {}) } });
    },
    ...(issuer ? { issuer } : {}),
    ...(o.recorder ? { recorder: httpRecorderClient(o.recorder) } : {}),
    ...(messages ? { messages } : {}),
    notes,
    configuration: fingerprintOf("the target options given: URL, server name and CA, paths, the certificates' x5t#S256, which tokens were given (never keys or tokens)", {
      target: url.origin,
      servername: o.servername ?? url.hostname,
      serverCa: o.caFile ? certificateFingerprints(o.caFile) : null,
      verifyServer: !o.insecure,
      paths,
      scoped: o.scopedPath !== undefined && o.scope !== undefined ? { path: o.scopedPath, scope: o.scope } : null,
      clients: Object.fromEntries([...named].map(([name, c]) => [name, c.thumbprint])),
      tokens: { "participant-a": tokens.has("participant-a"), "participant-b": tokens.has("participant-b") },
      testPki: pki ? certificateFingerprints(pki.ca.root.cert) : null,
      recorder: o.recorder ?? null,
      tokenIssuer: issuer ? { issuer: issuer.issuer, kid: o.tokenIssuerKid ?? null, alg: o.tokenIssuerAlg ?? "PS256" } : null,
    }),
  };
}

/** The SHA-256 of each certificate in a PEM file (the server CA bundle), or of the file when it holds none. */
function certificateFingerprints(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const blocks = pemCertificateBlocks(text);
  return blocks.length > 0 ? blocks.map((pem) => sha256Hex(new X509Certificate(pem).raw)) : [sha256Hex(Buffer.from(text))];
}

/** The signed-message route and keys the operator supplied (none without --signing-key or --bank-jwks). */
async function signedMessages(o: TargetOptions, url: URL, client: ClientCredentials | undefined): Promise<SignedMessages | undefined> {
  if ((o.signingKey === undefined) !== (o.signingKid === undefined)) throw new Error("--signing-key and --signing-kid go together");
  if ((o.bankJwks === undefined) !== (o.bankOrganisationId === undefined)) throw new Error("--bank-jwks and --bank-organisation-id go together");
  if (o.signingKey === undefined && o.bankJwks === undefined) return undefined;
  let signer: TestMessageSigner | undefined;
  if (o.signingKey !== undefined) {
    const organisationId = client?.organisationId;
    if (!organisationId) throw new Error("--signing-key needs --client-cert with an organisation id (the message's iss)");
    signer = await messageSigner({ keyPem: readFileSync(o.signingKey, "utf8"), kid: o.signingKid!, organisationId }).catch((err: unknown) => {
      throw new Error(`--signing-key ${o.signingKey}: not a PKCS#8 PEM RSA key for PS256 (${(err as Error).message})`);
    });
  }
  let bank: SignedMessages["bank"];
  if (o.bankJwks !== undefined) {
    let keys: unknown;
    try {
      keys = (JSON.parse(readFileSync(o.bankJwks, "utf8")) as { keys?: unknown }).keys;
    } catch (err) {
      throw new Error(`--bank-jwks ${o.bankJwks}: not a JWK Set (${(err as Error).message})`);
    }
    if (!Array.isArray(keys) || keys.length === 0) throw new Error(`--bank-jwks ${o.bankJwks}: a JWK Set with at least one key ({"keys":[…]}) is needed`);
    bank = { organisationId: o.bankOrganisationId!, keys: keys as JWK[] };
  }
  const base = (o.publicBaseUrl ?? url.origin).replace(/\/+$/, "");
  return { path: o.signedPath ?? "/open-banking/payments/v4/consents", audience: (path) => `${base}${path}`, ...(signer ? { signer } : {}), ...(bank ? { bank } : {}) };
}

/** Mints tokens with the operator's key, as the deployment's authorization server would (PS256 default). */
async function keyIssuer(o: TargetOptions): Promise<TokenIssuer> {
  if (!o.tokenIssuer) throw new Error("--token-issuer-key needs --token-issuer (the iss the edge expects)");
  const alg = o.tokenIssuerAlg ?? "PS256";
  const key = await importPKCS8(readFileSync(o.tokenIssuerKey!, "utf8"), alg).catch((err: unknown) => {
    throw new Error(`--token-issuer-key ${o.tokenIssuerKey}: not a PKCS#8 PEM key for ${alg} (${(err as Error).message})`);
  });
  const iss = o.tokenIssuer;
  return {
    issuer: iss,
    jwt(options = {}) {
      const iat = Math.floor((options.now ?? new Date()).getTime() / 1000);
      const payload = {
        iss,
        iat,
        exp: iat + (options.lifetimeSeconds ?? 300),
        jti: randomUUID(),
        ...(options.thumbprint ? { cnf: { "x5t#S256": options.thumbprint } } : {}),
        ...options.claims,
      };
      return new SignJWT(payload).setProtectedHeader({ alg, ...(o.tokenIssuerKid ? { kid: o.tokenIssuerKid } : {}), typ: "at+jwt", ...options.header }).sign(key);
    },
  };
}
