import "reflect-metadata";
import { unwatchFile, watchFile, type Stats } from "node:fs";
import { Registry, type Counter } from "prom-client";
import { exitByDeadline, runCluster, type Env } from "./cluster.js";
import { loadConfigFile } from "./config/load.js";
import { ConfigError } from "./errors.js";
import { terminatesTls, type Config } from "./config/schema.js";
import { startEmbeddedDefault, type EmbeddedDefault } from "./dev/embedded.js";
import { autoWorkerCount } from "./cpu-quota.js";
import { createLogger, type Logger } from "./log/logger.js";
import { createMetrics, createReloadMetrics, type EdgeMetrics } from "./metrics/registry.js";
import { startEdge, type RunningEdge } from "./server.js";
import { checkTlsFiles } from "./tls/material.js";
import { SHA256_FINGERPRINT } from "./pki/thumbprint.js";

/**
 * Composition root: reads the configuration and the environment it is given, creates the logger, clock and
 * metrics, and decides between one process and `node:cluster` workers sharing the listeners (cluster.ts).
 */

export interface ServeOptions {
  readonly configFile: string | undefined;
  readonly env: Env;
  /** The human banner (where it listens, the embedded default's curl): stderr, since stdout carries the JSON log. */
  readonly out: (line: string) => void;
}

const clock = () => new Date();

export { isEdgeWorker, runWorker } from "./cluster.js";

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
  const workers = config.workers === "auto" ? autoWorkerCount() : config.workers;
  let running: { stop: (delay: boolean) => Promise<void>; reload: (next: Config) => Promise<void> };
  let reloads: Counter<"result">;
  try {
    // Read every TLS file once here, so a bad file is reported once, before any worker starts.
    checkTlsFiles(config, file);
    // Reloads are decided here: counted in the process's registry, or in the cluster primary's own (merged into /metrics).
    const metrics = workers === 1 ? createMetrics({ process: true, commit: env.OFB_EDGE_COMMIT }) : null;
    const decidedHere = metrics?.registry ?? new Registry();
    reloads = createReloadMetrics(decidedHere);
    running = metrics ? await runInProcess(config, file, logger, metrics) : await runCluster(config, file, workers, logger, env, decidedHere);
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
        checkTlsFiles(next, file);
        await running.reload(next);
        current = next;
        // A file the new configuration names (a profile file added, a certificate moved) is watched from now on.
        watcher.update(next);
        reloads.inc({ result: "success" });
        logger.info({ kind: "lifecycle", event: "reloaded", trigger }, "configuration reloaded");
      } catch (err) {
        reloads.inc({ result: "failure" });
        const issues = err instanceof ConfigError ? err.issues.map((i) => `${err.file}: ${i.path || "(root)"}: ${i.message}`) : [err instanceof Error ? err.message : String(err)];
        logger.error({ kind: "lifecycle", event: "reload-rejected", trigger, issues }, "reload rejected; the running configuration stays");
      }
    });
  };
  process.on("SIGHUP", () => reload("SIGHUP"));
  const watcher = watchConfigFiles(options.configFile, config, () => reload("file change"));
  const unwatch = () => watcher.close();
  const stop = async (delay: boolean) => {
    unwatch();
    await reloading;
    await running.stop(delay);
  };
  return new Promise((resolveExit) => {
    const shutdown = (signal: string) => {
      // SIGTERM is the orchestrator's: load balancers are given drainDelayMs to stop sending. SIGINT is a person at a
      // terminal, who wants the process gone now.
      const delay = signal === "SIGTERM";
      logger.info({ kind: "lifecycle", signal, drainDelayMs: delay ? current.drainDelayMs : 0, drainTimeoutMs: current.drainTimeoutMs }, "shutting down");
      exitByDeadline(current.drainTimeoutMs, logger);
      void stop(delay)
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

/** Every file a configuration names (and the file itself): a change to any of them reloads. */
function configFiles(configFile: string | undefined, config: Config): string[] {
  const files = new Set<string>(configFile ? [configFile] : []);
  for (const l of config.listeners.filter(terminatesTls)) {
    for (const f of [l.tls.cert, l.tls.key, ...l.tls.trustAnchors, ...(l.tls.dhparam ? [l.tls.dhparam] : []), ...(l.trustedProxy?.clientTrustAnchors ?? [])]) files.add(f);
  }
  for (const f of config.headerProfiles?.files ?? []) files.add(f);
  if (config.messageSigning?.signingKey) files.add(config.messageSigning.signingKey.file);
  for (const f of config.policy.transportRoots) if (!SHA256_FINGERPRINT.test(f)) files.add(f);
  return [...files];
}

/**
 * Polls the files by path (`fs.watchFile`), which also sees a file replaced by rename — how certificate
 * managers and Kubernetes secrets update them — and debounces a burst of changes into one reload. `update`
 * re-computes the set from a configuration just applied: files it names for the first time are watched from then
 * on, files it no longer names are not.
 */
function watchConfigFiles(configFile: string | undefined, config: Config, onChange: () => void): { update(config: Config): void; close(): void } {
  let files = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  const listener = (curr: Stats, prev: Stats) => {
    if (curr.mtimeMs === prev.mtimeMs && curr.size === prev.size && curr.ino === prev.ino) return;
    clearTimeout(timer);
    timer = setTimeout(onChange, 300);
  };
  const watch = (next: ReadonlySet<string>) => {
    for (const f of files) if (!next.has(f)) unwatchFile(f, listener);
    for (const f of next) if (!files.has(f)) watchFile(f, { interval: 500, persistent: false }, listener);
    files = new Set(next);
  };
  watch(new Set(configFiles(configFile, config)));
  let closed = false;
  return {
    update(next) {
      // A reload still in progress at shutdown does not bring the watchers back.
      if (!closed) watch(new Set(configFiles(configFile, next)));
    },
    close() {
      closed = true;
      clearTimeout(timer);
      watch(new Set());
    },
  };
}

async function runInProcess(config: Config, file: string, logger: Logger, metrics: EdgeMetrics) {
  const edge: RunningEdge = await startEdge(config, { logger, metrics, clock, configFile: file });
  return { stop: (delay: boolean) => (delay ? edge.shutdown() : edge.close()), reload: (next: Config) => edge.reload(next) };
}
