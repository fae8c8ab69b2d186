import "reflect-metadata";
import cluster from "node:cluster";
import { randomUUID } from "node:crypto";
import { AggregatorRegistry } from "prom-client";
import { availableParallelism } from "node:os";
import { loadConfigFile, parseConfig } from "./config/load.js";
import type { Config } from "./config/schema.js";
import { startEmbeddedDefault, type EmbeddedDefault } from "./dev/embedded.js";
import { createLogger, type Logger } from "./log/logger.js";
import { createMetrics } from "./metrics/registry.js";
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
  let embedded: EmbeddedDefault | undefined;
  let config: Config;
  let file: string;

  if (options.configFile) {
    file = options.configFile;
    config = loadConfigFile(file, env);
  } else {
    file = "(embedded default)";
    const started = await startEmbeddedDefault({ stateDir: env.OFB_EDGE_STATE_DIR ?? ".ofb-edge", env, now: clock(), cwd: process.cwd() });
    config = started.config;
    closeBackend = started.close;
    embedded = started;
  }

  const logger = createLogger({ level: config.log.level });
  const workers = config.workers === "auto" ? availableParallelism() : config.workers;
  let stop: () => Promise<void>;
  try {
    // Read every TLS file once here, so a bad file is reported once, before any worker starts.
    config.listeners.forEach((l, i) => readTlsMaterial(l, i, file));
    stop = workers === 1 ? await runInProcess(config, file, logger) : await runCluster(config, file, workers, logger, env);
  } catch (err) {
    await closeBackend?.();
    throw err;
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
    // Printed only once the signal handlers are in place: whoever reads these lines may stop us right away.
    const where = config.listeners.map((l) => `https://${l.host === "127.0.0.1" ? "localhost" : l.host}:${l.port} (${l.name}, ${l.mode})`).join(", ");
    options.out(`ofb-edge is listening on ${where} with ${workers} worker${workers === 1 ? "" : "s"}.`);
    if (embedded) {
      const pki = `${embedded.generated ? "generated a test PKI in" : "test PKI in"} ${embedded.pkiDir}`;
      options.out(`Embedded default: ${pki}, built-in mock directory and echo backend. Try the whole pipeline:`);
      options.out("");
      options.out(embedded.curl);
      options.out("");
    }
  });
}

/** Entry point of a cluster worker: builds the edge from the configuration the primary validated. */
export async function runWorker(env: Env): Promise<void> {
  const file = env[WORKER_CONFIG_FILE] ?? "(worker)";
  let edge: RunningEdge;
  let logger: Logger;
  try {
    const config = parseConfig(JSON.parse(env[WORKER_CONFIG]!), { file, baseDir: process.cwd() });
    logger = createLogger({ level: config.log.level, base: { worker: cluster.worker?.id } });
    const metrics = createMetrics();
    // prom-client answers the primary's aggregation requests with these registries; constructing an
    // AggregatorRegistry is what installs its worker-side listener.
    AggregatorRegistry.setRegistries([metrics.registry]);
    new AggregatorRegistry();
    edge = await startEdge(config, { logger, metrics, clock, configFile: file, metricsText: askPrimaryForMetrics });
  } catch (err) {
    // The primary reports a start-up failure once, with this message, and stops the other workers.
    process.send?.({ type: "ofb-edge:failed", message: err instanceof Error ? err.message : String(err) }, () => process.exit(1));
    return;
  }
  process.send?.({ type: "ofb-edge:ready" });
  process.once("SIGTERM", () => {
    void edge.close().then(() => {
      logger.flush();
      process.exit(0);
    });
  });
}

/** `/metrics` in a worker: every worker's metrics, aggregated by the primary (the admin port is shared). */
function askPrimaryForMetrics(): Promise<string> {
  return new Promise((resolve, reject) => {
    const id = randomUUID();
    const timer = setTimeout(() => {
      process.off("message", onMessage);
      reject(new Error("the primary did not answer within 5 s"));
    }, 5_000);
    const onMessage = (m: { type?: string; id?: string; text?: string; error?: string }) => {
      if (m?.type !== "ofb-edge:metrics" || m.id !== id) return;
      clearTimeout(timer);
      process.off("message", onMessage);
      if (m.text !== undefined) resolve(m.text);
      else reject(new Error(m.error ?? "no metrics"));
    };
    process.on("message", onMessage);
    process.send?.({ type: "ofb-edge:metrics-request", id });
  });
}

async function runInProcess(config: Config, file: string, logger: Logger): Promise<() => Promise<void>> {
  const edge: RunningEdge = await startEdge(config, { logger, metrics: createMetrics(), clock, configFile: file });
  return () => edge.close();
}

type WorkerMessage = { type?: string; message?: string };

/**
 * Forks `count` workers sharing the listeners (the primary accepts and hands connections out). Start-up is
 * all-or-nothing: if any worker fails to start, the others are stopped and the first failure is thrown. Once
 * running, a worker that dies is replaced, unless workers keep dying (more than 5 in 10 s).
 */
async function runCluster(config: Config, file: string, count: number, logger: Logger, env: Env): Promise<() => Promise<void>> {
  let phase: "starting" | "running" | "stopping" = "starting";
  const recentExits: number[] = [];
  const workerEnv = { ...env, [WORKER_CONFIG]: JSON.stringify(config), [WORKER_CONFIG_FILE]: file };
  const aggregator = new AggregatorRegistry();

  const fork = () =>
    new Promise<void>((resolveReady, rejectReady) => {
      const worker = cluster.fork(workerEnv);
      let ready = false;
      let failure: string | undefined;
      worker.on("message", (m: WorkerMessage) => {
        if (m?.type === "ofb-edge:ready") {
          ready = true;
          resolveReady();
        } else if (m?.type === "ofb-edge:failed") failure = m.message;
        else if (m?.type === "ofb-edge:metrics-request") {
          const id = (m as { id?: string }).id;
          aggregator.clusterMetrics().then(
            (text) => worker.isConnected() && worker.send({ type: "ofb-edge:metrics", id, text }),
            (err: Error) => worker.isConnected() && worker.send({ type: "ofb-edge:metrics", id, error: err.message }),
          );
        }
      });
      worker.once("exit", (code, signal) => {
        if (!ready) rejectReady(new Error(failure ?? `worker ${worker.id} exited during start-up (code ${code}, signal ${signal})`));
        if (phase !== "running") return;
        const now = Date.now();
        recentExits.push(now);
        while (recentExits.length > 0 && now - recentExits[0]! > 10_000) recentExits.shift();
        logger.error({ kind: "lifecycle", worker: worker.id, code, signal }, "worker exited; starting a replacement");
        if (recentExits.length > 5) {
          logger.fatal({ kind: "lifecycle" }, "workers keep exiting; giving up");
          logger.flush();
          process.exit(1);
        }
        fork().catch((err: Error) => logger.error({ kind: "lifecycle", error: err.message }, "replacement worker failed to start"));
      });
    });

  const stopAll = async () => {
    phase = "stopping";
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

  const started = await Promise.allSettled(Array.from({ length: count }, fork));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    await stopAll();
    throw failed.reason;
  }
  phase = "running";
  return stopAll;
}
