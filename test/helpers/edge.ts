import { readFileSync } from "node:fs";
import { inject } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import type { ConfigInput } from "../../src/config/schema.js";
import { createLogger } from "../../src/log/logger.js";
import { createMetrics } from "../../src/metrics/registry.js";
import { loadTestPki, type TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startEdge } from "../../src/server.js";

let cached: Promise<TestPkiManifest> | undefined;

/** The run's shared test PKI (generated once by test/setup/global.ts). */
export function testPki(): Promise<TestPkiManifest> {
  cached ??= loadTestPki(inject("pkiDir"));
  return cached;
}

type RouteInput = ConfigInput["routes"][number];
type ListenerInput = ConfigInput["listeners"][number];

export interface TestEdgeOptions {
  readonly pki: TestPkiManifest;
  readonly upstream: string;
  readonly mode?: "strict" | "permissive";
  readonly routes?: RouteInput[];
  readonly listeners?: ListenerInput[];
  readonly policy?: ConfigInput["policy"];
  readonly proxy?: ConfigInput["proxy"];
  readonly directory?: ConfigInput["directory"];
  readonly authorizationServer?: ConfigInput["authorizationServer"];
  readonly headerProfiles?: ConfigInput["headerProfiles"];
  readonly identityAssertion?: ConfigInput["identityAssertion"];
  readonly denyList?: ConfigInput["denyList"];
  /** How the Redis users reach Redis (any topology); absent: each user's own url. */
  readonly redis?: ConfigInput["redis"];
  /** Default off: the run's test PKI publishes no CRLs, and a test that needs them serves its own. */
  readonly revocation?: ConfigInput["revocation"];
  readonly admin?: ConfigInput["admin"];
  readonly idempotency?: ConfigInput["idempotency"];
  readonly limits?: ConfigInput["limits"];
  readonly messageSigning?: ConfigInput["messageSigning"];
  /** The default listener's publicBaseUrl (the `aud` base of signed messages). */
  readonly publicBaseUrl?: string;
  readonly clock?: () => Date;
}

/** Starts a real edge (real TLS listener, real upstream pool) in this process, logging into `logs`. */
export async function startTestEdge(o: TestEdgeOptions) {
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger({ level: "debug" }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  const metrics = createMetrics();
  const tls = { cert: o.pki.server.cert, key: o.pki.server.key, trustAnchors: [o.pki.trustAnchors] };
  const config = parseConfig(
    {
      listeners: o.listeners ?? [{ name: "mtls", host: "127.0.0.1", port: 0, mode: o.mode ?? "permissive", tls, ...(o.publicBaseUrl !== undefined && { publicBaseUrl: o.publicBaseUrl }) }],
      routes: o.routes ?? [
        { name: "open-banking", pathPrefix: "/open-banking/", upstream: o.upstream },
        { name: "well-known", pathPrefix: "/.well-known/", upstream: o.upstream, mtls: "optional", interactionId: "generate" },
      ],
      // The test PKI's root is the transport root (the default, ICP-Brasil root v10, is not in it).
      policy: { transportRoots: [o.pki.ca.root.cert], ...o.policy },
      proxy: o.proxy,
      directory: o.directory,
      authorizationServer: o.authorizationServer,
      headerProfiles: o.headerProfiles,
      identityAssertion: o.identityAssertion,
      denyList: o.denyList,
      redis: o.redis,
      revocation: o.revocation ?? { mode: "off" },
      admin: o.admin,
      idempotency: o.idempotency,
      limits: o.limits,
      messageSigning: o.messageSigning,
      workers: 1,
    },
    { file: "test-config", baseDir: process.cwd() },
  );
  const edge = await startEdge(config, { logger, metrics, clock: o.clock ?? (() => new Date()), configFile: "test-config" });
  const port = edge.listeners[0]!.port;
  return { edge, port, logs, metrics, config, tlsFiles: tls, close: () => edge.close() };
}

/** A participant's credentials as a well-behaved client sends them (leaf + intermediate). */
export function clientCredentials(pki: TestPkiManifest, name: string, options: { chain?: boolean } = {}) {
  const c = pki.clients[name];
  if (!c) throw new Error(`no test client '${name}'`);
  return { cert: readFileSync(options.chain === false ? c.cert : c.chain), key: readFileSync(c.key) };
}
