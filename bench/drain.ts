import "reflect-metadata";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { parseConfig } from "../src/config/load.js";
import { freeTcpPort, listen } from "../src/http/listen.js";
import { createLogger } from "../src/log/logger.js";
import { createMetrics } from "../src/metrics/registry.js";
import { generateTestPki } from "../src/pki/test-pki/index.js";
import { startEdge } from "../src/server.js";
import { startLoad, watchReadiness, type Target } from "./drain-load.js";
import { envNumber } from "./env.js";

/**
 * Drain under load: how long `ofb-edge serve` takes from SIGTERM to exit while keep-alive clients keep it busy, and
 * whether any request fails.
 *
 * A backend (5 ms per answer) and a second edge (in this process) stand by; the edge under test runs as
 * `ofb-edge serve` with `BENCH_WORKERS` workers (default 2), `drainDelayMs` `BENCH_DRAIN_DELAY_MS` (default 5000, the
 * product's default) and `drainTimeoutMs` 25 s. `BENCH_CLIENTS` keep-alive clients (default 16) go through a
 * client-side balancer that health-checks `/readyz` every `BENCH_HEALTH_CHECK_MS` (default 1000 ms, as cloud load
 * balancers do at best) and reconnect on `Connection: close`. After `BENCH_WARMUP` s (default 3) the edge gets
 * SIGTERM; the run prints when `/readyz` turned 503, when the listener stopped accepting, when the process exited,
 * and every failed request (the target is none).
 */

const ROOT = resolve(import.meta.dirname, "../..");
const PATH = "/open-banking/accounts/v2/accounts";

async function main(): Promise<number> {
  const workers = Math.round(envNumber("BENCH_WORKERS", 2));
  const drainDelayMs = Math.round(envNumber("BENCH_DRAIN_DELAY_MS", 5_000));
  const clients = Math.round(envNumber("BENCH_CLIENTS", 16));
  const healthCheckMs = Math.round(envNumber("BENCH_HEALTH_CHECK_MS", 1_000));
  const warmupMs = envNumber("BENCH_WARMUP", 3) * 1000;
  const drainTimeoutMs = 25_000;
  const dir = await mkdtemp(join(tmpdir(), "ofb-edge-bench-drain-"));
  const cleanup: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true })];
  try {
    const pki = await generateTestPki({ out: join(dir, "pki") });
    const backend = createServer((_req, res) => setTimeout(() => res.end('{"ok":true}'), 5));
    backend.keepAliveTimeout = 60_000;
    const backendUrl = `http://127.0.0.1:${await listen(backend, 0, "127.0.0.1")}`;
    cleanup.push(() => new Promise((r) => backend.close(r)).finally(() => backend.closeAllConnections()));
    const base = {
      listeners: [{ name: "edge", host: "127.0.0.1", port: 0, mode: "permissive" as const, tls: { cert: pki.server.cert, key: pki.server.key, trustAnchors: [pki.trustAnchors] } }],
      routes: [{ name: "open-banking", pathPrefix: "/open-banking/", upstream: backendUrl }],
      policy: { transportRoots: [pki.ca.root.cert] },
      revocation: { mode: "off" as const },
      log: { level: "warn" as const },
    };
    const steady = await startEdge(parseConfig({ ...base, workers: 1 }, { file: "(standby edge)", baseDir: dir }), {
      logger: createLogger({ level: "silent" }),
      metrics: createMetrics(),
      clock: () => new Date(),
      configFile: "(standby edge)",
    });
    cleanup.push(() => steady.close());

    const [adminPort, port] = [await freeTcpPort(), await freeTcpPort()];
    const file = join(dir, "edge.json");
    await writeFile(file, JSON.stringify({ ...base, listeners: [{ ...base.listeners[0], port }], admin: { host: "127.0.0.1", port: adminPort }, drainDelayMs, drainTimeoutMs, workers }));
    const child = spawn(process.execPath, [join(ROOT, "bin/ofb-edge.js"), "serve", "--config", file], { stdio: ["ignore", "pipe", "inherit"] });
    cleanup.push(async () => void (child.exitCode === null && child.kill("SIGKILL")));
    const exited = new Promise<{ code: number | null; at: number }>((r) => child.once("exit", (code) => r({ code, at: performance.now() })));
    await new Promise<void>((ready, fail) => {
      createInterface({ input: child.stdout! }).on("line", (line) => line.startsWith("ofb-edge is listening") && ready());
      child.once("exit", (code) => fail(new Error(`ofb-edge serve exited with ${code}`)));
    });

    const draining: Target = { name: "draining", port, ready: false };
    const standby: Target = { name: "standby", port: steady.listeners[0]!.port, ready: true };
    const stopWatching = watchReadiness(draining, `http://127.0.0.1:${adminPort}/readyz`, healthCheckMs);
    cleanup.push(async () => stopWatching());
    while (!draining.ready) await new Promise((r) => setTimeout(r, 50));
    const client = pki.clients["participant-a"]!;
    const tls = { ca: readFileSync(pki.trustAnchors), cert: readFileSync(client.chain), key: readFileSync(client.key), servername: "localhost" };
    const load = startLoad({ targets: [draining, standby], clients, tls, path: PATH });
    await new Promise((r) => setTimeout(r, warmupMs));

    const sent = performance.now();
    child.kill("SIGTERM");
    let notReady: number | undefined;
    let refused: number | undefined;
    const probe = async () => {
      while (refused === undefined && child.exitCode === null) {
        if (notReady === undefined) {
          const status = await fetch(`http://127.0.0.1:${adminPort}/readyz`).then((r) => r.status, () => 0);
          if (status === 503) notReady = performance.now();
        }
        if (!(await accepts(port))) refused = performance.now();
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await probe();
    const exit = await exited;
    // The balancer's clients keep going through the standby edge a little longer: none of them may fail either.
    await new Promise((r) => setTimeout(r, 500));
    const outcomes = await load.stop();
    const failed = outcomes.filter((o) => o.error !== undefined);
    const after = outcomes.filter((o) => o.target === "draining" && o.at > sent);
    const ms = (t: number | undefined) => (t === undefined ? "n/a" : `${Math.round(t - sent)} ms`);
    console.log(`drain under load: ${workers} worker(s), ${clients} keep-alive clients, health check every ${healthCheckMs} ms, drainDelayMs ${drainDelayMs}, drainTimeoutMs ${drainTimeoutMs}`);
    console.log(`  requests             ${outcomes.length} (${after.length} answered by the draining edge after SIGTERM)`);
    console.log(`  SIGTERM → /readyz 503    ${ms(notReady)}`);
    console.log(`  SIGTERM → not accepting  ${ms(refused)}`);
    console.log(`  SIGTERM → exit           ${ms(exit.at)} (exit code ${exit.code})`);
    console.log(`  failed requests      ${failed.length}`);
    for (const f of failed.slice(0, 10)) console.log(`    ${f.target} at ${ms(f.at)}: ${f.error}`);
    return failed.length === 0 && exit.code === 0 ? 0 : 1;
  } finally {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  }
}

/** Whether a TCP connection to the port is accepted. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
