import "reflect-metadata";
import cluster from "node:cluster";
import { randomUUID } from "node:crypto";
import { unwatchFile, watchFile, type Stats } from "node:fs";
import { AggregatorRegistry } from "prom-client";
import { availableParallelism } from "node:os";
import { loadConfigFile, parseConfig } from "./config/load.js";
import { ConfigError } from "./errors.js";
import { terminatesTls, type Config } from "./config/schema.js";
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
  let running: { stop: () => Promise<void>; reload: (next: Config) => Promise<void> };
  try {
    // Read every TLS file once here, so a bad file is reported once, before any worker starts.
    config.listeners.forEach((l, i) => terminatesTls(l) && readTlsMaterial(l, i, file));
    running = workers === 1 ? await runInProcess(config, file, logger) : await runCluster(config, file, workers, logger, env);
  } catch (err) {
    await closeBackend?.();
    throw err;
  }
  // Hot reload (issue: operations): SIGHUP, or a change to the configuration file or any file it names.
  let current = config;
  let reloading = Promise.resolve();
  const reload = (trigger: string) => {
    reloading = reloading.then(async () => {
      try {
        const next = options.configFile ? loadConfigFile(options.configFile, env) : current;
        next.listeners.forEach((l, i) => terminatesTls(l) && readTlsMaterial(l, i, file));
        await running.reload(next);
        current = next;
        logger.info({ kind: "lifecycle", event: "reloaded", trigger }, "configuration reloaded");
      } catch (err) {
        const issues = err instanceof ConfigError ? err.issues.map((i) => `${err.file}: ${i.path || "(root)"}: ${i.message}`) : [err instanceof Error ? err.message : String(err)];
        logger.error({ kind: "lifecycle", event: "reload-rejected", trigger, issues }, "reload rejected; the running configuration stays");
      }
    });
  };
  process.on("SIGHUP", () => reload("SIGHUP"));
  const unwatch = watchConfigFiles(options.configFile, config, () => reload("file change"));
  const stop = async () => {
    unwatch();
    await reloading;
    await running.stop();
  };
  return new Promise((resolveExit) => {
    const shutdown = (signal: string) => {
      logger.info({ kind: "lifecycle", signal, drainTimeoutMs: current.drainTimeoutMs }, "shutting down");
      exitByDeadline(current.drainTimeoutMs, logger);
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
    const where = config.listeners.map((l) => `${terminatesTls(l) ? "https" : "tls+tcp"}://${l.host === "127.0.0.1" ? "localhost" : l.host}:${l.port} (${l.name}, ${l.mode})`).join(", ");
    options.out(`ofb-edge is listening on ${where} with ${workers} worker${workers === 1 ? "" : "s"}.`);
    if (embedded) {
      const pki = `${embedded.generated ? "generated a test PKI in" : "test PKI in"} ${embedded.pkiDir}`;
      options.out(`Embedded default: ${pki}, built-in mock directory, authorization-server stub and echo backend. Try the whole pipeline (a token bound to participant-a):`);
      options.out("");
      options.out(embedded.curl);
      options.out("");
    }
  });
}

/** After the drain, what the stages may take to close (each is bounded, see RunningEdge.close) before the process exits anyway. */
const EXIT_GRACE_MS = 5_000;

/**
 * The last line of shutdown: whatever still holds the process (a socket, timer or subscription nothing closed) does
 * not keep it alive past the drain time-out and the grace. Unreferenced, so a clean shutdown exits before it fires.
 */
function exitByDeadline(drainTimeoutMs: number, logger: Logger): void {
  setTimeout(() => {
    logger.warn({ kind: "lifecycle", event: "exit-forced", drainTimeoutMs, stillOpen: process.getActiveResourcesInfo() }, "shutdown did not finish in time; exiting");
    logger.flush();
    process.exit(0);
  }, drainTimeoutMs + EXIT_GRACE_MS).unref();
}

/** Every file a configuration names (and the file itself): a change to any of them reloads. */
function configFiles(configFile: string | undefined, config: Config): string[] {
  const files = new Set<string>(configFile ? [configFile] : []);
  for (const l of config.listeners.filter(terminatesTls)) {
    for (const f of [l.tls.cert, l.tls.key, ...l.tls.trustAnchors, ...(l.tls.dhparam ? [l.tls.dhparam] : []), ...(l.trustedProxy?.clientTrustAnchors ?? [])]) files.add(f);
  }
  for (const f of config.headerProfiles?.files ?? []) files.add(f);
  return [...files];
}

/**
 * Polls the files by path (`fs.watchFile`), which also sees a file replaced by rename — how certificate
 * managers and Kubernetes secrets update them — and debounces a burst of changes into one reload.
 */
function watchConfigFiles(configFile: string | undefined, config: Config, onChange: () => void): () => void {
  const files = configFiles(configFile, config);
  let timer: NodeJS.Timeout | undefined;
  const listener = (curr: Stats, prev: Stats) => {
    if (curr.mtimeMs === prev.mtimeMs && curr.size === prev.size && curr.ino === prev.ino) return;
    clearTimeout(timer);
    timer = setTimeout(onChange, 300);
  };
  for (const f of files) watchFile(f, { interval: 500, persistent: false }, listener);
  return () => {
    clearTimeout(timer);
    for (const f of files) unwatchFile(f, listener);
  };
}

/** Entry point of a cluster worker: builds the edge from the configuration the primary validated. */
export async function runWorker(env: Env): Promise<void> {
  const file = env[WORKER_CONFIG_FILE] ?? "(worker)";
  let edge: RunningEdge;
  let logger: Logger;
  let config: Config;
  try {
    config = parseConfig(JSON.parse(env[WORKER_CONFIG]!), { file, baseDir: process.cwd() });
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
  // A hang-up or Ctrl-C sent to the whole process group must not kill a worker: reloads and shutdown come from the
  // primary.
  process.on("SIGHUP", () => undefined);
  process.on("SIGINT", () => undefined);
  process.on("message", (m: { type?: string; id?: string; config?: string }) => {
    if (m?.type !== "ofb-edge:reload") return;
    const reply = (error?: string) => process.send?.({ type: "ofb-edge:reloaded", id: m.id, ...(error === undefined ? {} : { error }) });
    let next: Config;
    try {
      next = parseConfig(JSON.parse(m.config!), { file, baseDir: process.cwd() });
    } catch (err) {
      reply(err instanceof Error ? err.message : String(err));
      return;
    }
    edge.reload(next).then(
      () => {
        config = next;
        reply();
      },
      (err: unknown) => reply(err instanceof Error ? err.message : String(err)),
    );
  });
  let stopping = false;
  const shutdown = (trigger: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ kind: "lifecycle", trigger }, "worker shutting down");
    exitByDeadline(config.drainTimeoutMs, logger);
    void edge.close().then(() => {
      logger.flush();
      process.exit(0);
    });
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  // The primary is gone (killed, crashed): a worker does not outlive it.
  process.once("disconnect", () => shutdown("primary gone"));
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

async function runInProcess(config: Config, file: string, logger: Logger) {
  const edge: RunningEdge = await startEdge(config, { logger, metrics: createMetrics(), clock, configFile: file });
  return { stop: () => edge.close(), reload: (next: Config) => edge.reload(next) };
}

type WorkerMessage = { type?: string; message?: string };

/**
 * Forks `count` workers sharing the listeners (the primary accepts and hands connections out). Start-up is
 * all-or-nothing: if any worker fails to start, the others are stopped and the first failure is thrown. Once
 * running, a worker that dies is replaced, unless workers keep dying (more than 5 in 10 s).
 */
async function runCluster(config: Config, file: string, count: number, logger: Logger, env: Env) {
  let phase: "starting" | "running" | "stopping" = "starting";
  let current = config;
  const recentExits: number[] = [];
  const workerEnv = { ...env, [WORKER_CONFIG]: JSON.stringify(config), [WORKER_CONFIG_FILE]: file };
  const aggregator = new AggregatorRegistry();
  const reloads = new Map<string, (error?: string) => void>();

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
        else if (m?.type === "ofb-edge:reloaded") {
          const r = m as { id?: string; error?: string };
          reloads.get(`${worker.id}:${r.id}`)?.(r.error);
        } else if (m?.type === "ofb-edge:metrics-request") {
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

  /** Each worker drains and exits on SIGTERM; one still alive after the drain time-out and the grace is killed. */
  const stopAll = async () => {
    phase = "stopping";
    await Promise.all(
      Object.values(cluster.workers ?? {}).map(
        (w) =>
          new Promise<void>((done) => {
            if (!w || w.isDead()) return done();
            const kill = setTimeout(() => {
              logger.warn({ kind: "lifecycle", worker: w.id, drainTimeoutMs: current.drainTimeoutMs }, "worker did not exit in time; killing it");
              w.process.kill("SIGKILL");
            }, current.drainTimeoutMs + EXIT_GRACE_MS);
            w.once("exit", () => {
              clearTimeout(kill);
              done();
            });
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
  /** Every worker reloads; a worker that refuses keeps its configuration, and the first refusal is reported. */
  const reloadAll = async (next: Config) => {
    const id = randomUUID();
    const config = JSON.stringify(next);
    const results = await Promise.all(
      Object.values(cluster.workers ?? {}).map(
        (w) =>
          new Promise<string | undefined>((done) => {
            if (!w || w.isDead()) return done(undefined);
            reloads.set(`${w.id}:${id}`, (error) => {
              reloads.delete(`${w.id}:${id}`);
              done(error);
            });
            w.send({ type: "ofb-edge:reload", id, config });
          }),
      ),
    );
    workerEnv[WORKER_CONFIG] = config;
    current = next;
    const failed = results.find((r) => r !== undefined);
    if (failed !== undefined) throw new Error(`a worker refused the reload: ${failed}`);
  };
  return { stop: stopAll, reload: reloadAll };
}
