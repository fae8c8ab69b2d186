/** Latency series of awaited calls, timed one by one, and their table rows (bench/directory.ts, bench/binding.ts). */

/** Latency percentiles of one series, microseconds. */
export interface Latency {
  readonly samples: number;
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
  readonly max: number;
}

export function latency(micros: readonly number[]): Latency {
  const sorted = Float64Array.from(micros).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
  return { samples: sorted.length, p50: at(0.5), p99: at(0.99), mean: sorted.reduce((a, b) => a + b, 0) / sorted.length, max: at(1) };
}

export const median = (values: readonly number[]) => latency(values).p50;

/** Time of one awaited call, microseconds (`process.hrtime.bigint()`, as the issue asks). */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1000;
}

/** Microseconds as the tables print them: one decimal below 100. */
export const micros = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
export const count = (v: number) => v.toLocaleString("en-US");

/** One row of a latency table: samples, p50, p99, mean, max (µs), then `extra` cells and a note. */
export interface LatencyRow {
  readonly name: string;
  readonly x: Latency;
  readonly extra?: readonly string[];
  readonly note?: string;
}

/** A latency table's header and rows, indented two spaces; `extra` names the columns after max (11 wide). */
export function latencyLines(rows: readonly LatencyRow[], nameWidth: number, extra: readonly string[] = []): string[] {
  const cells = (name: string, values: readonly string[], tail: readonly string[], note = "") =>
    `  ${name.padEnd(nameWidth)}${values[0]!.padStart(8)}${values.slice(1).map((v) => v.padStart(9)).join("")}${tail.map((v) => v.padStart(11)).join("")}${note ? `  ${note}` : ""}`;
  return [
    cells("", ["samples", "p50", "p99", "mean", "max"], extra),
    ...rows.map((r) => cells(r.name, [count(r.x.samples), micros(r.x.p50), micros(r.x.p99), micros(r.x.mean), micros(r.x.max)], r.extra ?? [], r.note)),
  ];
}
