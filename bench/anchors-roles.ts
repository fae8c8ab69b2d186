import cluster from "node:cluster";
import { fork } from "node:child_process";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { runLoad, type LoadProfile, type Mode } from "./load.js";
import type { LoadResult } from "./report.js";
import { serveRole, startBaseline, type RoleSpec } from "./roles.js";

/**
 * The child processes bench/anchors.ts adds to bench/roles.ts's: the bare Node https proxy as a `node:cluster` of
 * two workers (bench/roles.ts's baseline in each, Node's default scheduling), and the load generators.
 */
export type AnchorRole = "node-proxy" | "node-proxy-worker" | "loadgen";
export const ANCHOR_ROLES: readonly AnchorRole[] = ["node-proxy", "node-proxy-worker", "loadgen"];

/** What a load generator process gets: the client's files (read in the child), the target and the run. */
export interface LoadgenSpec {
  readonly port: number;
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
  readonly interactionId: string;
  readonly authorization?: string;
  readonly mode: Mode;
  readonly connections: number;
  readonly seconds: number;
}

/** The bare Node proxy's cluster size: the edge's and nginx's worker count in the benchmark. */
const WORKERS = 2;

export function runAnchorRole(role: AnchorRole, spec: unknown, script: string): Promise<void> {
  if (role === "loadgen") return runLoadgen(spec as LoadgenSpec);
  if (role === "node-proxy-worker") {
    // The primary is gone: so is this worker.
    process.on("disconnect", () => process.exit(0));
    return startBaseline(spec as RoleSpec).then(() => undefined);
  }
  return serveRole(async () => {
    cluster.setupPrimary({ exec: script, args: ["node-proxy-worker", JSON.stringify(spec)] });
    const workers = Array.from({ length: WORKERS }, () => cluster.fork());
    const ports = await Promise.all(workers.map((w) => new Promise<number>((resolve) => w.once("listening", (address: AddressInfo) => resolve(address.port)))));
    return {
      port: ports[0]!,
      stats: () => ({ handshakes: 0, requests: 0, clientCertRequests: 0 }),
      close: async () => {
        await Promise.all(workers.map((w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : (w.once("exit", () => resolve()), w.kill())))));
      },
    };
  });
}

async function runLoadgen(spec: LoadgenSpec): Promise<void> {
  const profile: LoadProfile = {
    cert: readFileSync(spec.cert),
    key: readFileSync(spec.key),
    ca: readFileSync(spec.ca),
    interactionId: spec.interactionId,
    ...(spec.authorization === undefined ? {} : { authorization: spec.authorization }),
  };
  const result = await runLoad(spec.port, profile, spec.mode, { connections: spec.connections, seconds: spec.seconds });
  const { duration, errors, timeouts, mismatches, non2xx, statusCodeStats, latency } = result;
  const out: LoadResult = { "2xx": result["2xx"], duration, errors, timeouts, mismatches, non2xx, statusCodeStats, latency: { p50: latency.p50, p99: latency.p99, average: latency.average } };
  process.send?.(out, () => process.exit(0));
}

/**
 * `processes` load generators at once, `connections` split between them, each a forked autocannon (one event loop
 * cannot open TLS connections as fast as a server completes handshakes). The merged result: counts summed, the
 * longest duration, p50 and the mean latency weighted by each process's responses, p99 the highest of the processes'.
 */
export async function runLoadProcesses(script: string, base: Omit<LoadgenSpec, "connections">, connections: number, processes: number): Promise<LoadResult> {
  const shares = Array.from({ length: processes }, (_, i) => Math.floor(connections / processes) + (i < connections % processes ? 1 : 0)).filter((n) => n > 0);
  const results = await Promise.all(
    shares.map(
      (n) =>
        new Promise<LoadResult>((resolve, reject) => {
          const child = fork(script, ["loadgen", JSON.stringify({ ...base, connections: n } satisfies LoadgenSpec)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
          let got: LoadResult | undefined;
          child.once("message", (m: LoadResult) => (got = m));
          child.once("exit", (code) => (got ? resolve(got) : reject(new Error(`load generator exited with code ${code} before reporting`))));
        }),
    ),
  );
  const sum = (f: (r: LoadResult) => number) => results.reduce((s, r) => s + f(r), 0);
  const ok = sum((r) => r["2xx"]);
  const weighted = (f: (r: LoadResult) => number) => (ok > 0 ? sum((r) => f(r) * r["2xx"]) / ok : Number.NaN);
  const statusCodeStats: Record<string, { count: number }> = {};
  for (const r of results) for (const [code, { count }] of Object.entries(r.statusCodeStats)) statusCodeStats[code] = { count: (statusCodeStats[code]?.count ?? 0) + count };
  return {
    "2xx": ok,
    duration: Math.max(...results.map((r) => r.duration)),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    mismatches: sum((r) => r.mismatches),
    non2xx: sum((r) => r.non2xx),
    statusCodeStats,
    latency: { p50: weighted((r) => r.latency.p50), average: weighted((r) => r.latency.average), p99: Math.max(...results.map((r) => r.latency.p99)) },
  };
}
