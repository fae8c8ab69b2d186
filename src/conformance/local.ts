import "reflect-metadata";
import { randomBytes, X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../config/load.js";
import type { ConfigInput } from "../config/schema.js";
import { openRedisDenyList } from "../deny/deny-list.js";
import { maskRedisUrl } from "../redis/target.js";
import { startAuthorizationServerStub, type AuthorizationServerStub } from "../dev/authorization-server.js";
import { startRedisServer, type RedisServer } from "../dev/redis-server.js";
import { startMockDirectory, type MockDirectory } from "../directory/mock.js";
import { listen } from "../http/listen.js";
import { createLogger, type Logger } from "../log/logger.js";
import { createMetrics } from "../metrics/registry.js";
import { signTestCrl, testSerialOf } from "../pki/test-pki/crl.js";
import { generateTestPki, loadTestCa, loadTestPki, type TestPkiManifest } from "../pki/test-pki/index.js";
import { startEdge, type RunningEdge } from "../server.js";
import { ScenarioContext } from "./context.js";
import { localMessages, localMessagesConfig } from "./local-messages.js";
import { credentialsFromPki } from "./credentials.js";
import type { Environment } from "./environment.js";
import { fingerprintOf, localConfigurationDocument, localRunNames } from "./fingerprint.js";
import { startRecorder, type Recorder } from "./recorder.js";
import { CAPABILITIES, type Capability } from "./scenario.js";

/** The local stack's routes (what the scenarios call). */
export const LOCAL_PATHS = {
  accounts: "/open-banking/accounts/v2/accounts",
  payments: "/open-banking/payments/v4/pix/payments",
  public: "/.well-known/openid-configuration",
} as const;

/**
 * The local stack's routes with small traffic limits: one participant's burst exceeds the first (per minute, so no
 * window rolls over during a run), a concurrent burst the second's global ceiling.
 */
export const LOCAL_LIMITED_PATHS = {
  participant: "/open-banking/conformance-limited/v1/resources",
  global: "/open-banking/conformance-overloaded/v1/resources",
} as const;

const INTROSPECTION_CLIENT = "ofb-edge-conformance";
/** The scope the local payments route requires (the bound tokens carry it). */
const PAYMENTS_SCOPE = "payments";
/** The outage edge's staleness limit (the schema's minimum) and how far its clock jumps when the Directory goes away. */
const OUTAGE_STALENESS_MS = 60_000;
const OUTAGE_JUMP_MS = 2 * OUTAGE_STALENESS_MS;
const DAY = 86_400_000;

export interface LocalStackOptions {
  /** `REDIS_URL` when set; otherwise a `redis-server` on PATH is started; otherwise the in-memory stores. */
  readonly redis?: "auto" | "none" | { readonly url: string };
  /** Changes the edge's configuration before it starts (tests use it to misconfigure the edge on purpose). */
  readonly configure?: (input: ConfigInput) => ConfigInput;
  /** Where the edge logs (default: nowhere). */
  readonly logger?: Logger;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** An existing test PKI directory to use instead of generating one (tests share theirs; generating takes seconds). */
  readonly pkiDir?: string;
  /** What the suite speaks to the edge (default HTTP/1.1). */
  readonly protocol?: Environment["protocol"];
}

export interface LocalStack {
  readonly environment: Environment;
  readonly pki: TestPkiManifest;
  readonly edge: RunningEdge;
  readonly recorder: Recorder;
  close(): Promise<void>;
}

/**
 * Issue 7, local mode: everything on 127.0.0.1 — a fresh test PKI, the recording backend, the mock Directory,
 * the authorization-server stub (JWKS, introspection), a CRL server listing the test PKI's `revoked`
 * certificate, Redis when available (Directory store and the deny list holding the `denied` certificate), the
 * edge under test on a permissive listener (its payments route requiring a scope, its payment consents route
 * verifying and signing messages with the test PKI's keys), and a second edge whose
 * Directory can be taken away.
 */
export async function startLocalStack(o: LocalStackOptions = {}): Promise<LocalStack> {
  const cleanup: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  };
  try {
    const dir = await mkdtemp(join(tmpdir(), "ofb-edge-conformance-"));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const now = new Date();
    const pkiDir = o.pkiDir ?? join(dir, "pki");
    const pki = o.pkiDir ? await loadTestPki(o.pkiDir) : await generateTestPki({ out: pkiDir, now });

    const redis = await localRedis(o.redis ?? "auto", o.env ?? process.env);
    if (redis.server) cleanup.push(() => redis.server!.kill());
    const keyPrefix = `conformance:${randomBytes(6).toString("hex")}:`;

    const recorder = await startRecorder();
    cleanup.push(() => recorder.close());
    const secret = randomBytes(24).toString("base64url");
    const stub = await startAuthorizationServerStub({ clients: [{ clientId: INTROSPECTION_CLIENT, secret }] });
    cleanup.push(() => stub.close());
    const directory = await startMockDirectory({ fixtureDir: join(pkiDir, "directory") });
    cleanup.push(() => directory.close());
    const crls = await startCrlServer(pki, now);
    cleanup.push(crls.close);

    const logger = o.logger ?? createLogger({ level: "silent" });
    const input = localConfig({ pki, upstream: recorder.url, directory, stub, secret, crls, redis: redis.url, keyPrefix });
    const config = parseConfig(o.configure ? o.configure(input) : input, { file: "(conformance local stack)", baseDir: process.cwd(), env: {} });
    const edge = await startEdge(config, { logger, metrics: createMetrics(), clock: () => new Date(), configFile: "(conformance local stack)" });
    cleanup.push(() => edge.close());

    const capabilities = new Set<Capability>(CAPABILITIES);
    const notes: string[] = [];
    if (redis.url && config.denyList) {
      const deny = await openRedisDenyList({ url: redis.url, keyPrefix: config.denyList.keyPrefix, connectTimeoutMs: 5_000, subscribe: false });
      try {
        await deny.add({ kind: "thumbprint", value: pki.clients["denied"]!.thumbprint, reason: "conformance: denied certificate", addedAt: now.toISOString(), expiresAt: null });
      } finally {
        await deny.close();
      }
      notes.push(`Redis at ${maskRedisUrl(redis.url)} (${redis.server ? "started for this run" : "REDIS_URL"}): Directory store, deny list, idempotency store and traffic counters`);
    } else {
      capabilities.delete("deny-list");
      notes.push("no Redis (REDIS_URL unset and no redis-server on PATH): in-memory Directory store, idempotency store and traffic counters; the deny list, which needs Redis, is not tested");
    }

    const outage = await startOutageEdge({ pki, recorder, pkiDir, logger });
    cleanup.push(outage.close);

    const credentials = credentialsFromPki(pki);
    const protocol = o.protocol ?? "http1.1";
    const configuration = fingerprintOf(
      "the local stack edge's effective configuration as JSON: secrets and ports removed, the run's folders, Redis key prefix and test-PKI fingerprints named",
      localConfigurationDocument(config, await localRunNames({ dir, pkiDir, pki, keyPrefix })),
    );
    const environment: Environment = {
      mode: "local",
      protocol,
      description: `local stack${protocol === "http2" ? " over HTTP/2" : ""}: ofb-edge on 127.0.0.1:${edge.listeners[0]!.port} (permissive listener), mock Directory, authorization-server stub, recording backend, CRL server`,
      target: { host: "127.0.0.1", port: edge.listeners[0]!.port, servername: "localhost", ca: await readFile(pki.trustAnchors), verifyServer: true, url: `https://localhost:${edge.listeners[0]!.port}` },
      paths: LOCAL_PATHS,
      capabilities,
      scoped: { path: LOCAL_PATHS.payments, scope: PAYMENTS_SCOPE },
      limited: LOCAL_LIMITED_PATHS,
      credentials,
      boundToken: async (client) => {
        const c = credentials(client);
        if (!c) throw new Error(`no credentials named '${client}'`);
        return stub.issueJwt({ thumbprint: c.thumbprint, claims: { client_id: c.softwareStatementId ?? client, scope: `openid accounts ${PAYMENTS_SCOPE}` } });
      },
      issuer: { issuer: stub.issuer, jwt: (options) => stub.issueJwt(options) },
      opaqueToken: (response) => stub.issueOpaque(response),
      recorder: recorder.client,
      directoryOutage: outage.trigger,
      messages: await localMessages(pki),
      notes,
      configuration,
    };
    await warmUp(environment, edge);
    return { environment, pki, edge, recorder, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The edge under test's configuration (before `configure`). */
function localConfig(o: {
  pki: TestPkiManifest;
  upstream: string;
  directory: MockDirectory;
  stub: AuthorizationServerStub;
  secret: string;
  crls: { readonly urls: Record<string, string[]> };
  redis: string | null;
  keyPrefix: string;
}): ConfigInput {
  const tls = { cert: o.pki.server.cert, key: o.pki.server.key, trustAnchors: [o.pki.trustAnchors] };
  const messages = localMessagesConfig(o);
  return {
    listeners: [{ name: "edge", host: "127.0.0.1", port: 0, mode: "permissive", tls }],
    // The test PKI's root is the transport hierarchy (the default, ICP-Brasil root v10, is not in it).
    policy: { transportRoots: [o.pki.ca.root.cert] },
    routes: [
      // Signed messages only where the messages scenarios call (the other areas send unsigned bodies to payments).
      { name: "open-banking", pathPrefix: "/open-banking/", upstream: o.upstream, mtls: "required", interactionId: "require", messageSigning: "off" },
      { name: "payments", pathPrefix: "/open-banking/payments/", upstream: o.upstream, mtls: "required", interactionId: "require", scopes: [PAYMENTS_SCOPE], messageSigning: "off", idempotency: "enforce" },
      messages.route,
      // Only the limits are under test on these two: no Directory role or token needed.
      { name: "limited", pathPrefix: "/open-banking/conformance-limited/", upstream: o.upstream, mtls: "required", interactionId: "require", participant: "off", binding: "off" },
      { name: "overloaded", pathPrefix: "/open-banking/conformance-overloaded/", upstream: o.upstream, mtls: "required", interactionId: "require", participant: "off", binding: "off", globalPerSecond: 2 },
      { name: "well-known", pathPrefix: "/.well-known/", upstream: o.upstream, mtls: "optional", interactionId: "generate" },
    ],
    directory: {
      participantsUrl: o.directory.participantsUrl,
      keystoreUrl: o.directory.keystoreUrl,
      store: o.redis ? { type: "redis", url: o.redis, keyPrefix: o.keyPrefix } : { type: "memory" },
    },
    authorizationServer: {
      issuer: o.stub.issuer,
      clockSkewSeconds: 0,
      introspection: { auth: { method: "client_secret_basic", clientId: INTROSPECTION_CLIENT, clientSecret: o.secret } },
    },
    revocation: { mode: "crl", onStale: "soft-fail", urls: o.crls.urls },
    messageSigning: messages.section,
    ...(o.redis ? { denyList: { url: o.redis, keyPrefix: o.keyPrefix } } : {}),
    idempotency: { store: o.redis ? { type: "redis", url: o.redis, keyPrefix: o.keyPrefix } : { type: "memory" } },
    limits: {
      store: o.redis ? { type: "redis", url: o.redis, keyPrefix: o.keyPrefix } : { type: "memory" },
      families: { "conformance-limited": { organisation: { perMinute: 5 } } },
    },
    log: { level: "silent" },
    workers: 1,
  };
}

/**
 * Serves the CRLs of the test root (empty) and of ssl-ac (listing the `revoked` client), valid for a day;
 * `urls` is the edge's `revocation.urls` for both.
 */
async function startCrlServer(pki: TestPkiManifest, now: Date) {
  const [root, sslAc] = await Promise.all([loadTestCa(pki.ca.root), loadTestCa(pki.ca.sslAc)]);
  const revokedPem = await readFile(pki.clients["revoked"]!.cert, "utf8");
  const window = { thisUpdate: new Date(now.getTime() - 60_000), nextUpdate: new Date(now.getTime() + DAY) };
  const files = new Map<string, Uint8Array>([
    ["/root.crl", await signTestCrl(root, window)],
    ["/ssl-ac.crl", await signTestCrl(sslAc, { ...window, revoked: [{ serial: testSerialOf(new X509Certificate(revokedPem).raw) }] })],
  ]);
  const server: Server = createServer((req, res) => {
    const body = files.get(req.url ?? "");
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/pkix-crl", "content-length": body.length });
    res.end(body);
  });
  const port = await listen(server, 0, "127.0.0.1");
  const sha256 = (ca: { der: Uint8Array }) => new X509Certificate(ca.der).fingerprint256.replace(/:/g, "").toLowerCase();
  return {
    urls: { [sha256(root)]: [`http://127.0.0.1:${port}/root.crl`], [sha256(sslAc)]: [`http://127.0.0.1:${port}/ssl-ac.crl`] },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * A second edge with its own mock Directory and a clock the stack can move: `begin` takes the Directory away and
 * moves the clock past `maxStalenessMs`, so the snapshot it loaded is too old to serve (docs/architecture.md,
 * decision D5).
 */
async function startOutageEdge(o: { pki: TestPkiManifest; recorder: Recorder; pkiDir: string; logger: Logger }) {
  const directory = await startMockDirectory({ fixtureDir: join(o.pkiDir, "directory") });
  let offset = 0;
  let directoryUp = true;
  const tls = { cert: o.pki.server.cert, key: o.pki.server.key, trustAnchors: [o.pki.trustAnchors] };
  const config = parseConfig(
    {
      listeners: [{ name: "outage", host: "127.0.0.1", port: 0, mode: "permissive", tls }],
      policy: { transportRoots: [o.pki.ca.root.cert] },
      routes: [{ name: "open-banking", pathPrefix: "/open-banking/", upstream: o.recorder.url }],
      directory: { participantsUrl: directory.participantsUrl, keystoreUrl: directory.keystoreUrl, store: { type: "memory" }, maxStalenessMs: OUTAGE_STALENESS_MS },
      revocation: { mode: "off" },
      log: { level: "silent" },
      workers: 1,
    },
    { file: "(conformance outage edge)", baseDir: process.cwd(), env: {} },
  );
  let edge: RunningEdge;
  try {
    edge = await startEdge(config, { logger: o.logger, metrics: createMetrics(), clock: () => new Date(Date.now() + offset), configFile: "(conformance outage edge)" });
  } catch (err) {
    await directory.close();
    throw err;
  }
  const port = edge.listeners[0]!.port;
  return {
    trigger: async () => ({
      port,
      async begin() {
        if (directoryUp) {
          directoryUp = false;
          await directory.close();
        }
        offset = OUTAGE_JUMP_MS;
      },
    }),
    async close() {
      await edge.close();
      if (directoryUp) await directory.close();
    },
  };
}

/**
 * Before the first scenario: one accepted request (the edge learns ssl-ac and asks for its CRL), then every
 * CRL loaded, so the `revoked` scenario does not depend on timing.
 */
async function warmUp(env: Environment, edge: RunningEdge): Promise<void> {
  const t = new ScenarioContext(env);
  try {
    const res = await t.send({ as: "participant-a", token: await env.boundToken!("participant-a") });
    if (res.status !== 200) throw new Error(`the local edge refused a well-formed request during warm-up: ${res.status} ${res.error ?? res.text.slice(0, 300)}`);
    await edge.revocation.refreshNow();
  } finally {
    t.dispose();
  }
}

async function localRedis(choice: NonNullable<LocalStackOptions["redis"]>, env: Readonly<Record<string, string | undefined>>): Promise<{ url: string | null; server?: RedisServer }> {
  if (choice === "none") return { url: null };
  if (typeof choice === "object") return { url: choice.url };
  if (env.REDIS_URL) return { url: env.REDIS_URL };
  try {
    const server = await startRedisServer();
    return { url: server.url, server };
  } catch {
    return { url: null };
  }
}
