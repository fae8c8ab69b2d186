import { writeFile } from "node:fs/promises";
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import { Session } from "node:inspector/promises";
import type { AddressInfo } from "node:net";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { Pool, type Dispatcher } from "undici";
import { parseConfig } from "../src/config/load.js";
import { proxySchema, type Config, type ConfigInput, type TlsListenerConfig } from "../src/config/schema.js";
import { createLogger } from "../src/log/logger.js";
import { createMetrics } from "../src/metrics/registry.js";
import { startEdge } from "../src/server.js";
import { readTlsMaterial, readTransportRoots } from "../src/tls/material.js";
import { refuseSessionTickets, serverTlsOptions } from "../src/tls/profile.js";
import { placeLoadGenerator } from "./cpus.js";

/** The three server processes of a run. Each runs alone in a child process forked from the benchmark script. */
export type Role = "backend" | "baseline" | "edge";
export const ROLES: readonly Role[] = ["backend", "baseline", "edge"];

/** What the parent passes to a child (as a JSON argument). */
export interface RoleSpec {
  readonly cert: string;
  readonly key: string;
  readonly trustAnchors: string;
  /** Backend origin; unused by the backend itself. */
  readonly upstream: string;
  /** The edge's log level: `info` (every request logs an access line) unless diagnosing logging cost. */
  readonly logLevel: "info" | "silent";
  /** Settings added to the edge's one route (bench/profiles.ts: `profiles`); none when absent. */
  readonly route?: RouteSettings;
  /** The operator's profile files the edge loads (`headerProfiles.files`; bench/profiles.ts's control); none when absent. */
  readonly profileFiles?: readonly string[];
}

/** Settings of the edge's one route, as in a configuration file (`profiles`, `participant`, `binding`, …). */
export type RouteSettings = Partial<ConfigInput["routes"][number]>;

/** Cumulative counters a child reports; the parent takes differences around each measured run. */
export interface RoleStats {
  /** Completed TLS handshakes (`secureConnection`); 0 for the plain-HTTP backend. */
  readonly handshakes: number;
  /** HTTP requests received. */
  readonly requests: number;
  /** Requests that arrived with an RFC 9440 `Client-Cert` field (backend only: proves the edge forwarded identity). */
  readonly clientCertRequests: number;
  /** User + system CPU time of the process, microseconds. */
  readonly cpuMicros: number;
  /** Requests that arrived with `x-ofb-roles` (backend only: proves the edge ran the Directory check and forwarded its result). */
  readonly ofbRolesRequests?: number;
  /** Requests that arrived with `x-ofb-client-id` (backend only: proves the edge verified an access token and forwarded its client_id). */
  readonly ofbClientIdRequests?: number;
  /** Requests that arrived with an Envoy `x-forwarded-client-cert`, and those whose value starts with `Hash=` (backend only: bench/profiles.ts). */
  readonly xfccRequests?: number;
  readonly xfccHashRequests?: number;
  /** Requests that arrived with an RFC 9440 `Client-Cert-Chain` field (backend only). */
  readonly clientCertChainRequests?: number;
  /** Bytes of the request header fields as sent (`name: value` CRLF each), summed (backend only: what the edge forwards). */
  readonly headerBytes?: number;
  /** The edge's token verifier (edge only, with an `authorizationServer` section): cache hits and verifications performed. */
  readonly tokenHits?: number;
  readonly tokenVerifications?: number;
}

/** A child's memory, from `process.memoryUsage()`, bytes. */
export interface RoleMemory {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
}

export type ToChild =
  | { readonly type: "stats" }
  | { readonly type: "profile-start" }
  | { readonly type: "profile-stop"; readonly file: string }
  | { readonly type: "memory" }
  | { readonly type: "stop" };
export type FromChild =
  | { readonly type: "ready"; readonly port: number }
  | { readonly type: "stats"; readonly stats: RoleStats }
  | { readonly type: "memory"; readonly memory: RoleMemory }
  | { readonly type: "done" }
  | { readonly type: "error"; readonly message: string };

/** The backend's answer, identical for both proxies; the parent checks every response body against it. */
export const BACKEND_BODY = JSON.stringify({
  data: { accountId: "291e5a29-49ed-401f-a583-193caa7aceee", brandName: "Banco Bench", type: "CONTA_DEPOSITO_A_VISTA" },
  links: { self: "https://api.banco.com.br/open-banking/accounts/v2/accounts" },
  meta: { totalRecords: 1, totalPages: 1 },
});

/** Path requested in every run; the edge's route is `/open-banking/`. */
export const BENCH_PATH = "/open-banking/accounts/v2/accounts";

/** The edge configuration under test, unparsed, for benchmarks that add to it ({@link extendedBenchConfig}). */
export function benchConfigInput(spec: RoleSpec) {
  return {
    listeners: [
      { name: "bench", host: "127.0.0.1", port: 0, mode: "strict", tls: { cert: spec.cert, key: spec.key, trustAnchors: [spec.trustAnchors] } },
    ],
    routes: [{ name: "open-banking", pathPrefix: "/open-banking/", upstream: spec.upstream, ...spec.route }],
    // The test PKI's trust-anchor file holds its root only: the transport root.
    policy: { transportRoots: [spec.trustAnchors] },
    log: { level: spec.logLevel },
    workers: 1,
    ...(spec.profileFiles ? { headerProfiles: { files: [...spec.profileFiles] } } : {}),
  } satisfies ConfigInput;
}

/** The edge configuration under test: one strict listener (handshake semantics equal to the baseline's), one route (with `spec.route`'s settings). */
export function benchConfig(spec: RoleSpec): Config {
  return parseBenchConfig(benchConfigInput(spec));
}

/**
 * {@link benchConfigInput} with settings added to its route (`participant`, `binding`) and sections added to the
 * configuration (`directory`, `authorizationServer`), validated: the edges of bench/directory-roles.ts and bench/binding-roles.ts.
 */
export function extendedBenchConfig(spec: RoleSpec, route: RouteSettings, sections: Omit<Partial<ConfigInput>, "listeners" | "routes">): Config {
  const base = benchConfigInput(spec);
  return parseBenchConfig({ ...base, routes: base.routes.map((r) => ({ ...r, ...route })), ...sections });
}

/** Validates a benchmark's edge configuration as `serve` would (paths resolve against the working directory). */
export function parseBenchConfig(input: ConfigInput): Config {
  return parseConfig(input, { file: "bench-config", baseDir: process.cwd() });
}

/** A server started in a child process: its port, its counters and how to close it. */
export interface Started {
  readonly port: number;
  readonly stats: () => Omit<RoleStats, "cpuMicros">;
  readonly close: () => Promise<void>;
}

/** Runs one role in this (child) process and serves the parent's IPC requests until told to stop. */
export function runRole(role: Role, spec: RoleSpec): Promise<void> {
  return serveRole(() => (role === "backend" ? startBackend() : role === "baseline" ? startBaseline(spec) : startEdgeRole(spec)));
}

/** Roles a benchmark script adds to {@link ROLES}, and how its child process runs one (`spec`: the parsed JSON argument). */
export interface ExtraRoles {
  readonly names: readonly string[];
  run(role: string, spec: unknown): Promise<void>;
}

/**
 * The top level of a benchmark script (`url`: its `import.meta.url`), which is also the program of its child
 * processes: with a role argument it runs that server until the parent stops it; otherwise it runs `main` with
 * the script's path (to fork the children from) and sets the exit code to its result, or to 1 after printing
 * the error unless `quiet()` (after Ctrl-C, what fails is the clean-up at work).
 */
export async function benchMain(url: string, main: (script: string) => Promise<number>, extra?: ExtraRoles, quiet: () => boolean = () => false): Promise<void> {
  const [role, spec = "{}"] = process.argv.slice(2);
  if (role !== undefined && extra?.names.includes(role)) return extra.run(role, JSON.parse(spec));
  if (role !== undefined && (ROLES as readonly string[]).includes(role)) return runRole(role as Role, JSON.parse(spec) as RoleSpec);
  placeLoadGenerator();
  process.exitCode = await main(fileURLToPath(url)).catch((err: unknown) => {
    if (!quiet()) console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    return 1;
  });
}

/**
 * Starts a server in this (child) process and serves the parent's IPC requests (stats, memory, profiler, stop)
 * until told to stop. Other benchmarks start their own servers through it (bench/directory-roles.ts).
 */
export async function serveRole(start: () => Promise<Started>): Promise<void> {
  const send = (msg: FromChild) => process.send?.(msg);
  // The parent is gone (crash, Ctrl-C): never leave a server behind.
  process.on("disconnect", () => process.exit(0));
  let started: Started;
  try {
    started = await start();
  } catch (cause) {
    send({ type: "error", message: cause instanceof Error ? cause.message : String(cause) });
    process.exit(1);
  }
  const profiler = createProfiler();
  process.on("message", (msg: ToChild) => {
    if (msg.type === "stats") {
      const cpu = process.cpuUsage();
      send({ type: "stats", stats: { ...started.stats(), cpuMicros: cpu.user + cpu.system } });
    } else if (msg.type === "memory") {
      const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
      send({ type: "memory", memory: { rss, heapUsed, heapTotal, external } });
    } else if (msg.type === "profile-start" || msg.type === "profile-stop") {
      (msg.type === "profile-start" ? profiler.start() : profiler.stop(msg.file)).then(
        () => send({ type: "done" }),
        (err: unknown) => send({ type: "error", message: String(err) }),
      );
    } else if (msg.type === "stop") {
      // process.exit (not a signal) so that --cpu-prof writes its profile.
      const timeout = new Promise((resolve) => setTimeout(resolve, 2_000).unref());
      void Promise.race([started.close(), timeout]).finally(() => process.exit(0));
    }
  });
  send({ type: "ready", port: started.port });
}

/**
 * V8's sampling CPU profiler (what `node --cpu-prof` uses), started and stopped around a measured run so
 * that start-up and warm-up are not in the profile.
 */
export function createProfiler() {
  let session: Session | undefined;
  return {
    async start() {
      session = new Session();
      session.connect();
      await session.post("Profiler.enable");
      await session.post("Profiler.setSamplingInterval", { interval: 250 });
      await session.post("Profiler.start");
    },
    async stop(file: string) {
      if (!session) throw new Error("profiler not started");
      const { profile } = await session.post("Profiler.stop");
      session.disconnect();
      session = undefined;
      await writeFile(file, JSON.stringify(profile));
    },
  };
}

async function listen(server: { listen: (port: number, host: string, cb: () => void) => unknown; address: () => AddressInfo | string | null }): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

/** A tiny JSON backend shared by both proxies. */
async function startBackend(): Promise<Started> {
  let requests = 0;
  let clientCertRequests = 0;
  let ofbRolesRequests = 0;
  let ofbClientIdRequests = 0;
  let xfccRequests = 0;
  let xfccHashRequests = 0;
  let clientCertChainRequests = 0;
  let headerBytes = 0;
  const server = createHttpServer((req, res) => {
    requests++;
    if (req.headers["client-cert"] !== undefined) clientCertRequests++;
    if (req.headers["client-cert-chain"] !== undefined) clientCertChainRequests++;
    if (req.headers["x-ofb-roles"] !== undefined) ofbRolesRequests++;
    if (req.headers["x-ofb-client-id"] !== undefined) ofbClientIdRequests++;
    const xfcc = req.headers["x-forwarded-client-cert"];
    if (xfcc !== undefined) {
      xfccRequests++;
      if (typeof xfcc === "string" && xfcc.startsWith("Hash=")) xfccHashRequests++;
    }
    // Header strings are latin1 (one character per byte); each field is `name: value\r\n` on the wire.
    const raw = req.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) headerBytes += raw[i]!.length + raw[i + 1]!.length + 4;
    req.resume();
    res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(BACKEND_BODY) });
    res.end(BACKEND_BODY);
  });
  const port = await listen(server);
  return {
    port,
    stats: () => ({ handshakes: 0, requests, clientCertRequests, ofbRolesRequests, ofbClientIdRequests, xfccRequests, xfccHashRequests, clientCertChainRequests, headerBytes }),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Fields a proxy must not copy (RFC 9110 §7.6.1), and that undici refuses in a request anyway. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "te", "transfer-encoding", "upgrade", "trailer", "expect"]);

function copyHeaders(headers: IncomingHttpHeaders | Dispatcher.ResponseData["headers"]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

/**
 * The baseline: a bare `https` + `requestCert` reverse proxy. Same certificate, key, trust anchors and TLS
 * profile as the edge (read by the edge's own `readTlsMaterial`, options from `serverTlsOptions`: same
 * versions, ciphers, no resumption, `rejectUnauthorized`), the same undici pool size and call
 * (`pool.request` + streamed body). No policy, no identity, no interaction id, no logging, no metrics.
 */
export async function startBaseline(spec: RoleSpec): Promise<Started> {
  const config = benchConfig(spec);
  const { material } = readTlsMaterial(config.listeners[0] as TlsListenerConfig, 0, "bench-config", readTransportRoots(config.policy.transportRoots, "bench-config"));
  const pool = new Pool(spec.upstream, { connections: proxySchema.parse({}).connectionsPerUpstream });
  let handshakes = 0;
  let requests = 0;

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    requests++;
    const length = req.headers["content-length"];
    const hasBody = req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
    pool.request({ path: req.url ?? "/", method: req.method as Dispatcher.HttpMethod, headers: copyHeaders(req.headers), body: hasBody ? req : null }).then(
      (up) => {
        res.writeHead(up.statusCode, copyHeaders(up.headers));
        pipeline(up.body, res).catch(() => res.destroy());
      },
      () => {
        res.statusCode = 502;
        res.end();
      },
    );
  };
  const server: HttpsServer = createHttpsServer(serverTlsOptions(material, "strict"), handle);
  refuseSessionTickets(server);
  server.on("secureConnection", () => handshakes++);
  const port = await listen(server);
  return {
    port,
    stats: () => ({ handshakes, requests, clientCertRequests: 0 }),
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await pool.close();
    },
  };
}

/**
 * The edge, exactly as `serve` builds it for one worker: `startEdge` with a pino logger writing to a real
 * file descriptor (/dev/null, asynchronously like production's stdout) so that logging is paid for, and
 * real Prometheus metrics. `config` defaults to {@link benchConfig}; it must have one listener.
 */
export async function startEdgeRole(spec: RoleSpec, config: Config = benchConfig(spec)): Promise<Started> {
  const logger = createLogger({ level: spec.logLevel }, pino.destination({ dest: "/dev/null", sync: false }));
  const edge = await startEdge(config, { logger, metrics: createMetrics(), clock: () => new Date(), configFile: "bench-config" });
  const { server, port } = edge.listeners[0]!;
  let handshakes = 0;
  let requests = 0;
  server.on("secureConnection", () => handshakes++);
  server.on("request", () => requests++);
  const tokens = edge.tokens?.stats;
  const tokenStats = () => (tokens ? { tokenHits: tokens.hits, tokenVerifications: tokens.verifications } : {});
  return { port, stats: () => ({ handshakes, requests, clientCertRequests: 0, ...tokenStats() }), close: () => edge.close() };
}
