import "reflect-metadata";
import cluster from "node:cluster";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, relative, resolve } from "node:path";
import { embeddedConfig } from "./config/embedded.js";
import { loadConfigFile, parseConfig } from "./config/load.js";
import type { Config } from "./config/schema.js";
import { startEchoBackend } from "./dev/echo-backend.js";
import { createLogger, type Logger } from "./log/logger.js";
import { createMetrics } from "./metrics/registry.js";
import { generateTestPki, loadTestPki } from "./pki/test-pki/index.js";
import { startEdge, type RunningEdge } from "./server.js";
import { readTlsMaterial } from "./tls/material.js";

/**
 * Composition root (STYLE): the only module that reads `process.env`, creates the logger, clock and
 * metrics, and decides between one process and `node:cluster` workers sharing the listeners.
 */

type Env = Readonly<Record<string, string | undefined>>;

export interface ServeOptions {
  readonly configFile: string | undefined;
  readonly env: Env;
  readonly out: (line: string) => void;
}

const WORKER_CONFIG = "OFB_EDGE_WORKER_CONFIG";
const WORKER_CONFIG_FILE = "OFB_EDGE_WORKER_CONFIG_FILE";
const clock = () => new Date();

/** True in a cluster worker started by {@link serve}. */
export function isEdgeWorker(env: Env): boolean {
  return cluster.isWorker && env[WORKER_CONFIG] !== undefined;
}

/** `ofb-edge serve`: runs until SIGTERM/SIGINT. Resolves with the exit code. */
export async function serve(options: ServeOptions): Promise<number> {
  const { env } = options;
  let closeBackend: (() => Promise<void>) | undefined;
  let embedded: { curl: string; pkiDir: string } | undefined;
  let config: Config;
  let file: string;

  if (options.configFile) {
    file = options.configFile;
    config = loadConfigFile(file, env);
  } else {
    file = "(embedded default)";
    const stateDir = resolve(env.OFB_EDGE_STATE_DIR ?? ".ofb-edge");
    const pkiDir = join(stateDir, "pki");
    const manifest = existsSync(join(pkiDir, "manifest.json")) ? await loadTestPki(pkiDir) : await generateTestPki({ out: pkiDir });
    const backend = await startEchoBackend();
    closeBackend = backend.close;
    config = parseConfig(
      embeddedConfig({
        serverCert: manifest.server.cert,
        serverKey: manifest.server.key,
        trustAnchors: manifest.trustAnchors,
        upstream: backend.url,
        port: 8443,
      }),
      { file, baseDir: process.cwd(), env },
    );
    const client = manifest.clients["participant-a"]!;
    const port = config.listeners[0]!.port;
    const rel = (p: string) => (relative(process.cwd(), p).startsWith("..") ? p : relative(process.cwd(), p));
    embedded = {
      pkiDir,
      curl: [
        "curl --cacert",
        rel(manifest.trustAnchors),
        "--cert",
        rel(client.chain),
        "--key",
        rel(client.key),
        "-H",
        `'x-fapi-interaction-id: ${randomUUID()}'`,
        `https://localhost:${port}/open-banking/accounts/v2/accounts`,
      ].join(" "),
    };
  }

  // Read every TLS file once here, so a bad file is reported once, before any worker starts.
  config.listeners.forEach((l, i) => readTlsMaterial(l, i, file));
  const logger = createLogger({ level: config.log.level });
  const workers = config.workers === "auto" ? availableParallelism() : config.workers;

  const stop = workers === 1 ? await runInProcess(config, file, logger) : await runCluster(config, file, workers, logger, env);
  const where = config.listeners.map((l) => `https://${l.host === "127.0.0.1" ? "localhost" : l.host}:${l.port} (${l.name}, ${l.mode})`).join(", ");
  options.out(`ofb-edge is listening on ${where} with ${workers} worker${workers === 1 ? "" : "s"}.`);
  if (embedded) {
    options.out(`Embedded default: test PKI in ${embedded.pkiDir}, built-in echo backend. Try the whole pipeline:`);
    options.out("");
    options.out(embedded.curl);
    options.out("");
  }

  return new Promise((resolveExit) => {
    const shutdown = (signal: string) => {
      logger.info({ kind: "lifecycle", signal }, "shutting down");
      void stop()
        .then(() => closeBackend?.())
        .then(() => {
          logger.flush();
          resolveExit(0);
        });
    };
    process.once("SIGTERM", () => shutdown("SIGTERM"));
    process.once("SIGINT", () => shutdown("SIGINT"));
  });
}

/** Entry point of a cluster worker: builds the edge from the configuration the primary validated. */
export async function runWorker(env: Env): Promise<void> {
  const file = env[WORKER_CONFIG_FILE] ?? "(worker)";
  const config = parseConfig(JSON.parse(env[WORKER_CONFIG]!), { file, baseDir: process.cwd() });
  const logger = createLogger({ level: config.log.level, base: { worker: cluster.worker?.id } });
  const edge = await startEdge(config, { logger, metrics: createMetrics(), clock, configFile: file });
  process.send?.({ type: "ofb-edge:ready" });
  process.once("SIGTERM", () => {
    void edge.close().then(() => {
      logger.flush();
      process.exit(0);
    });
  });
}

async function runInProcess(config: Config, file: string, logger: Logger): Promise<() => Promise<void>> {
  const edge: RunningEdge = await startEdge(config, { logger, metrics: createMetrics(), clock, configFile: file });
  return () => edge.close();
}

async function runCluster(config: Config, file: string, count: number, logger: Logger, env: Env): Promise<() => Promise<void>> {
  let stopping = false;
  const recentExits: number[] = [];
  const workerEnv = { ...env, [WORKER_CONFIG]: JSON.stringify(config), [WORKER_CONFIG_FILE]: file };

  const fork = () =>
    new Promise<void>((resolveReady, rejectReady) => {
      const worker = cluster.fork(workerEnv);
      worker.on("message", (m: { type?: string }) => {
        if (m?.type === "ofb-edge:ready") resolveReady();
      });
      worker.once("exit", (code, signal) => {
        rejectReady(new Error(`worker ${worker.id} exited before it was ready (code ${code}, signal ${signal})`));
        if (stopping) return;
        const now = Date.now();
        recentExits.push(now);
        while (recentExits.length > 0 && now - recentExits[0]! > 10_000) recentExits.shift();
        logger.error({ kind: "lifecycle", worker: worker.id, code, signal }, "worker exited; starting a replacement");
        if (recentExits.length > 5) {
          logger.fatal({ kind: "lifecycle" }, "workers keep exiting; giving up");
          process.exit(1);
        }
        fork().catch(() => undefined);
      });
    });

  await Promise.all(Array.from({ length: count }, fork));
  return async () => {
    stopping = true;
    await Promise.all(
      Object.values(cluster.workers ?? {}).map(
        (w) =>
          new Promise<void>((done) => {
            if (!w || w.isDead()) return done();
            w.once("exit", () => done());
            w.process.kill("SIGTERM");
          }),
      ),
    );
  };
}
