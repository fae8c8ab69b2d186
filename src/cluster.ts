import cluster from "node:cluster";
import { randomUUID } from "node:crypto";
import { AggregatorRegistry, type Registry } from "prom-client";
import { parseConfig } from "./config/load.js";
import type { Config } from "./config/schema.js";
import { createLogger, type Logger } from "./log/logger.js";
import { createMetrics } from "./metrics/registry.js";
import { startEdge, type RunningEdge } from "./server.js";
import { idempotencyInPrimary } from "./idempotency/open.js";
import { limitsInPrimary } from "./limits/open.js";
import { replayStoreInPrimary } from "./messages/replay-cluster.js";

/**
 * `workers` > 1: the `node:cluster` workers sharing the listeners, and the primary that starts, reloads and stops
 * them and aggregates their metrics (each metric by its own aggregator, see metrics/registry.ts). Both keep the
 * shutdown deadline ({@link exitByDeadline}).
 */

export type Env = Readonly<Record<string, string | undefined>>;

const WORKER_CONFIG = "OFB_EDGE_WORKER_CONFIG";
const WORKER_CONFIG_FILE = "OFB_EDGE_WORKER_CONFIG_FILE";
const clock = () => new Date();

/** True in a cluster worker started by `serve`. */
export function isEdgeWorker(env: Env): boolean {
  return cluster.isWorker && env[WORKER_CONFIG] !== undefined;
}

/** After the drain, what the stages may take to close (each is bounded, see RunningEdge.close) before the process exits anyway. */
const EXIT_GRACE_MS = 5_000;

/**
 * The last line of shutdown: whatever still holds the process (a socket, timer or subscription nothing closed) does
 * not keep it alive past the drain time-out and the grace. Unreferenced, so a clean shutdown exits before it fires.
 */
export function exitByDeadline(drainTimeoutMs: number, logger: Logger): void {
  setTimeout(() => {
    logger.warn({ kind: "lifecycle", event: "exit-forced", drainTimeoutMs, stillOpen: process.getActiveResourcesInfo() }, "shutdown did not finish in time; exiting");
    logger.flush();
    process.exit(0);
  }, drainTimeoutMs + EXIT_GRACE_MS).unref();
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
    const metrics = createMetrics({ worker: String(cluster.worker?.id ?? 0), process: true, commit: env.OFB_EDGE_COMMIT });
    // prom-client answers the primary's aggregation requests with these registries; constructing an
    // AggregatorRegistry is what installs its worker-side listener.
    AggregatorRegistry.setRegistries([metrics.registry]);
    new AggregatorRegistry();
    edge = await startEdge(config, { logger, metrics, clock, configFile: file, metricsText: askPrimaryForMetrics, inClusterWorker: true });
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
  process.on("message", (m: { type?: string; id?: string; config?: string; delay?: boolean }) => {
    if (m?.type === "ofb-edge:shutdown") return shutdown("primary", m.delay === true);
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
  /** `delay`: keep serving, not ready, for drainDelayMs first (see RunningEdge.shutdown). */
  const shutdown = (trigger: string, delay: boolean) => {
    if (stopping) return;
    stopping = true;
    logger.info({ kind: "lifecycle", trigger, drainDelayMs: delay ? config.drainDelayMs : 0 }, "worker shutting down");
    exitByDeadline(config.drainTimeoutMs, logger);
    void (delay ? edge.shutdown() : edge.close()).then(() => {
      logger.flush();
      process.exit(0);
    });
  };
  // A SIGTERM to the whole process group (systemd, `kill -- -pgid`) reaches the workers too: the orchestrator's shutdown.
  process.once("SIGTERM", () => shutdown("SIGTERM", true));
  // The primary is gone (killed, crashed), and the listening sockets it held with it: a worker does not outlive it.
  process.once("disconnect", () => shutdown("primary gone", false));
}

/** `/metrics` in a worker: every worker's metrics, aggregated by the primary, and the primary's own (the admin port is shared). */
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

type WorkerMessage = { type?: string; message?: string };

/**
 * Forks `count` workers sharing the listeners (each worker accepts on the shared listening socket). Start-up is
 * all-or-nothing: if any worker fails to start, the others are stopped and the first failure is thrown. Once
 * running, a worker that dies is replaced, unless workers keep dying (more than 5 in 10 s).
 */
export async function runCluster(config: Config, file: string, count: number, logger: Logger, env: Env, primaryMetrics: Registry) {
  // Each worker accepts its own connections from the listening socket the primary shares with it, as nginx's workers
  // do, instead of Node's default round-robin (the primary accepts every connection and sends it to a worker over
  // IPC, which the worker acknowledges): with OFB's one connection per call, that hand-off cost about 0.2 ms of the
  // primary's CPU and a JSON IPC round trip in the worker per connection (bench/anchors.ts, handshake mode).
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  let phase: "starting" | "running" | "stopping" = "starting";
  let current = config;
  const recentExits: number[] = [];
  const workerEnv = { ...env, [WORKER_CONFIG]: JSON.stringify(config), [WORKER_CONFIG_FILE]: file };
  const aggregator = new AggregatorRegistry();
  const reloads = new Map<string, (error?: string) => void>();
  // The memory stores of the message-level rules live here, one for every worker (a store per worker would let a
  // repeat, or a participant's next request, that lands on another worker go unrecognised).
  limitsInPrimary(config.limits);
  const stopIdempotency = idempotencyInPrimary(config.idempotency);
  const stopReplayStore = replayStoreInPrimary(config.messageSigning);

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
          // The workers' aggregate, then what only the primary counts (reloads): no metric name is in both.
          Promise.all([aggregator.clusterMetrics(), primaryMetrics.metrics()]).then(
            ([workers, primary]) => worker.isConnected() && worker.send({ type: "ofb-edge:metrics", id, text: `${workers}${workers.endsWith("\n") || workers === "" ? "" : "\n"}${primary}` }),
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

  /**
   * Each worker is told to shut down (`delay`: after drainDelayMs of serving while not ready, see
   * RunningEdge.shutdown; each worker answers the shared admin port, so every one must say 503), drains and exits;
   * one still alive after the drain time-out and the grace is killed.
   */
  const stopAll = async (delay: boolean) => {
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
            // The message says whether to delay; a worker the primary cannot reach any more gets SIGTERM.
            if (!w.isConnected()) w.process.kill("SIGTERM");
            else w.send({ type: "ofb-edge:shutdown", delay }, (err: Error | null) => err && w.process.kill("SIGTERM"));
          }),
      ),
    );
  };

  const started = await Promise.allSettled(Array.from({ length: count }, fork));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    await stopAll(false);
    stopIdempotency?.();
    stopReplayStore?.();
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
  return {
    stop: async (delay: boolean) => {
      await stopAll(delay);
      stopIdempotency?.();
      stopReplayStore?.();
    },
    reload: reloadAll,
  };
}
