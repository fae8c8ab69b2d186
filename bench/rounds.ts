import { join } from "node:path";
import { runLoad, type Child, type LoadProfile, type Mode } from "./load.js";
import { loudProblems, rps, type Measurement, type Target, type TargetNames } from "./report.js";
import type { RoleStats } from "./roles.js";

/**
 * One measured run and the rounds of runs around it, shared by the benchmarks: warm-up, counters of the server
 * and the backend taken before and after, the load generator's CPU, optionally the server's RSS and a CPU
 * profile of the measured run only.
 */

/** Differences of cumulative counters over a run; an optional counter missing before counts from 0. */
export function diffStats(a: RoleStats, b: RoleStats): RoleStats {
  const before = a as unknown as Readonly<Record<string, number | undefined>>;
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(b) as [string, number][]) out[name] = value - (before[name] ?? 0);
  return out as unknown as RoleStats;
}

/** Polls the child's RSS until stopped; returns the highest value seen. */
export function sampleRss(child: Child, everyMs: number) {
  let peak = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      peak = Math.max(peak, (await child.memory()).rss);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return peak;
    },
  };
}

export interface RunOptions {
  readonly connections: number;
  readonly seconds: number;
  readonly warmup: number;
  /** Where to write a CPU profile of the server's measured run; none when absent. */
  readonly profileFile?: string | undefined;
  /** Sample the server's RSS this often during the measured run; not sampled when absent. */
  readonly rssEveryMs?: number | undefined;
}

export interface Run<T extends string = Target> {
  readonly m: Measurement<T>;
  /** Highest RSS sampled during the measured run; null when not sampled. */
  readonly peakRss: number | null;
}

/** A warm-up on fresh connections, then one measured run against `child`. */
export async function measureRun<T extends string>(target: T, child: Child, backend: Child, profile: LoadProfile, mode: Mode, round: number, o: RunOptions): Promise<Run<T>> {
  await runLoad(child.port, profile, mode, { connections: o.connections, seconds: o.warmup });
  if (o.profileFile) await child.profileStart();
  const [s0, b0] = [await child.stats(), await backend.stats()];
  const sampler = o.rssEveryMs ? sampleRss(child, o.rssEveryMs) : undefined;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await runLoad(child.port, profile, mode, { connections: o.connections, seconds: o.seconds });
  const seconds = (performance.now() - t0) / 1000;
  const c1 = process.cpuUsage(c0);
  const peakRss = sampler ? await sampler.stop() : null;
  const [s1, b1] = [await child.stats(), await backend.stats()];
  if (o.profileFile) await child.profileStop(o.profileFile);
  const m: Measurement<T> = { target, mode, round, connections: o.connections, result, seconds, server: diffStats(s0, s1), backend: diffStats(b0, b1), clientCpuMicros: c1.user + c1.system };
  return { m, peakRss };
}

/**
 * The order of the targets in `round`: the Prouhet–Thue–Morse sequence in base n (n targets). Run k of the whole
 * schedule (k = n × round + position) goes to target (sum of the base-n digits of k) mod n, repeating every
 * n² rounds. Over n rounds each target takes each position once (ABC BCA CAB for three) and the sums of their
 * run indices are equal; over n² rounds so are the sums of their squares, so linear and quadratic drift cancel.
 * For two targets it is ABBA BAAB.
 */
export function prouhetOrder<T>(targets: readonly T[], round: number): T[] {
  const n = targets.length;
  return targets.map((_, position) => {
    let k = (n * round + position) % n ** 3;
    let digits = 0;
    for (; k > 0; k = Math.floor(k / n)) digits += k % n;
    return targets[digits % n]!;
  });
}

/**
 * Keep-alive load on two servers, `rounds` rounds in ABBA BAAB order, printing each run's rate and any run
 * that was not all 2xx with the backend's body. CPU profiles, when `profDir` is set, are named after the
 * target (`check-on-round1.cpuprofile` for a target named "check on").
 */
export function keepAliveRounds(
  servers: Readonly<Record<Target, Child>>,
  backend: Child,
  profile: LoadProfile,
  names: TargetNames,
  rounds: number,
  o: RoundOptions,
): Promise<Run[]> {
  return rotatedRounds(["baseline", "edge"], servers, backend, profile, names, rounds, o);
}

export type RoundOptions = Omit<RunOptions, "profileFile"> & {
  readonly profDir: string | undefined;
  /**
   * Start a fresh server process for every run (stopped after it) instead of reusing `servers`: what one
   * process's JIT and heap happen to settle into then varies from run to run for every target alike, rather than
   * favouring one target for the whole benchmark.
   */
  readonly fresh?: (target: string) => Promise<Child>;
};

/** {@link keepAliveRounds} for any number of targets, in {@link prouhetOrder}. */
export async function rotatedRounds<T extends string>(
  targets: readonly T[],
  servers: Readonly<Record<T, Child>>,
  backend: Child,
  profile: LoadProfile,
  names: TargetNames<T>,
  rounds: number,
  o: RoundOptions,
): Promise<Run<T>[]> {
  const runs: Run<T>[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const target of prouhetOrder(targets, round)) {
      process.stdout.write(`round ${round + 1}/${rounds}: ${names[target]} ... `);
      const profileFile = o.profDir && join(o.profDir, `${names[target].replaceAll(" ", "-")}-round${round + 1}.cpuprofile`);
      const child = o.fresh ? await o.fresh(target) : servers[target];
      let run: Run<T>;
      try {
        run = await measureRun(target, child, backend, profile, "keep-alive", round, { ...o, profileFile });
      } finally {
        if (o.fresh) await child.stop();
      }
      runs.push(run);
      process.stdout.write(`${Math.round(rps(run.m))} req/s\n`);
      const loud = loudProblems(run.m, names);
      if (loud) console.log(loud);
    }
  }
  return runs;
}

/**
 * The ratio of `target`'s mean run rate to `baseline`'s. The run order gives every target the same sum of run
 * positions (ABBA BAAB, {@link prouhetOrder}), so a linear drift of the machine's speed cancels in the means (not in
 * the medians); with fresh processes per run the best round can be a lucky process, so this is printed next to
 * the best-of ratio as the steadier figure.
 */
export function meanRatio<T extends string>(runs: readonly Run<T>[], target: T, baseline: T): number {
  const mean = (t: T) => {
    const rates = runs.filter((r) => r.m.target === t).map((r) => rps(r.m));
    return rates.reduce((sum, r) => sum + r, 0) / rates.length;
  };
  return mean(target) / mean(baseline);
}
