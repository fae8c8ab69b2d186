import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";

/** A positive number from the environment (`BENCH_DURATION=20`), or `def` when unset or empty. */
export function envNumber(name: string, def: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return def;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${JSON.stringify(raw)}`);
  return n;
}

/**
 * The knobs of every load benchmark: `BENCH_DURATION` (s, default 10), `BENCH_CONNECTIONS` (50), `BENCH_WARMUP`
 * (s, 2), `BENCH_ROUNDS` (`defaultRounds`), `BENCH_EDGE_LOG=silent` (the edge's access log off, for diagnosis)
 * and `BENCH_CPU_PROF=<dir>` (created here) for CPU profiles of the measured runs.
 */
export async function loadOptions(defaultRounds: number) {
  const options = {
    seconds: envNumber("BENCH_DURATION", 10),
    connections: Math.round(envNumber("BENCH_CONNECTIONS", 50)),
    warmup: envNumber("BENCH_WARMUP", 2),
    rounds: Math.round(envNumber("BENCH_ROUNDS", defaultRounds)),
    logLevel: process.env.BENCH_EDGE_LOG === "silent" ? ("silent" as const) : ("info" as const),
    profDir: process.env.BENCH_CPU_PROF ? resolve(process.env.BENCH_CPU_PROF) : undefined,
  };
  if (options.profDir) await mkdir(options.profDir, { recursive: true });
  return options;
}
