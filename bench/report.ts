import type { Result } from "autocannon";
import type { Mode } from "./load.js";
import type { RoleStats } from "./roles.js";

export type Target = "baseline" | "edge";

/**
 * How tables name the targets (bench/directory.ts compares an edge with the Directory check on and off;
 * bench/profiles.ts compares three edges, so it has targets of its own).
 */
export type TargetNames<T extends string = Target> = Readonly<Record<T, string>>;
const DEFAULT_NAMES: TargetNames = { baseline: "baseline", edge: "edge" };

/** What the tables read of a load generator's run: autocannon's `Result`, or bench/h2-load.ts's in the same terms. */
export type LoadResult = Pick<Result, "2xx" | "duration" | "non2xx" | "errors" | "timeouts" | "mismatches" | "statusCodeStats"> & {
  readonly latency: Pick<Result["latency"], "p50" | "p99" | "average">;
};

/** One measured run and what every process did during it. */
export interface Measurement<T extends string = Target> {
  readonly target: T;
  readonly mode: Mode;
  readonly round: number;
  /** Requests kept in flight: connections (HTTP/1.1), or connections × streams per connection (HTTP/2). */
  readonly connections: number;
  readonly result: LoadResult;
  /** Wall-clock seconds of the measured run, from the parent. */
  readonly seconds: number;
  /** Differences of the server's, the backend's and the load generator's counters over the run. */
  readonly server: RoleStats;
  readonly backend: RoleStats;
  readonly clientCpuMicros: number;
}

/** Successful responses per second: a run of errors must not look fast. */
export function rps(m: Measurement<string>): number {
  return m.result["2xx"] / m.result.duration;
}

/** The best of a target's rounds (highest 2xx req/s); its latency figures come from that same run. */
export function best<M extends Measurement<string>>(runs: readonly M[]): M {
  return runs.reduce((a, b) => (rps(b) > rps(a) ? b : a));
}

export function problems(m: Measurement<string>): number {
  return m.result.non2xx + m.result.errors + m.result.timeouts + m.result.mismatches;
}

const pct = (micros: number, seconds: number) => `${Math.round((micros / 1e6 / seconds) * 100)}%`;
const ratio = (edge: number, baseline: number) => (baseline > 0 ? edge / baseline : Number.NaN);
const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");

function row(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
}

/** The table of one mode: the best run of each target, the edge/baseline ratios and the verdict. */
export function modeTable(
  mode: Mode,
  runs: readonly Measurement[],
  target: number,
  header: string,
  names: TargetNames = DEFAULT_NAMES,
): { text: string; pass: boolean; ratio: number } {
  const { text, comparisons } = compareTable(mode, runs, ["baseline", "edge"], target, header, names);
  return { text, pass: comparisons[0]!.pass, ratio: comparisons[0]!.ratio };
}

/** One target against the reference of {@link compareTable}. */
export interface Comparison<T extends string> {
  readonly target: T;
  /** 2xx req/s of the target's best run ÷ the reference's. */
  readonly ratio: number;
  /** The server-bound projection: the reference's server CPU per request ÷ the target's. */
  readonly projection: number;
  readonly pass: boolean;
  /** The target's best run. */
  readonly best: Measurement<T>;
}

/**
 * The table of one mode for any number of targets: the best run of each (`targets[0]` is the reference), the
 * ratios of every other target to the reference and their verdicts against `goal`. With two targets it is
 * {@link modeTable}'s table.
 */
export function compareTable<T extends string>(
  mode: Mode,
  runs: readonly Measurement<T>[],
  targets: readonly [T, ...T[]],
  goal: number,
  header: string,
  names: TargetNames<T>,
): { text: string; comparisons: Comparison<T>[]; reference: Measurement<T> } {
  const bests = targets.map((t) => best(runs.filter((m) => m.target === t)));
  const [b, ...others] = bests as [Measurement<T>, ...Measurement<T>[]];
  const label = (m: Measurement<T>) => `${names[m.target]}/${names[b.target]}`;
  const widths = [Math.max(14, ...others.map((m) => label(m).length + 1), ...targets.map((t) => names[t].length + 1)), 9, 7, 7, 9, 8, 7, 11, 10, 10, 10, 10];
  const head = ["", "req/s", "p50 ms", "p99 ms", "2xx", "non-2xx", "errors", "handshakes", "hs/req", "srv CPU", "µs CPU/req", "client CPU"];
  const cpuPerRequest = (m: Measurement<T>) => m.server.cpuMicros / m.server.requests;
  const line = (m: Measurement<T>) =>
    row(
      [
        names[m.target],
        fmt(rps(m)),
        fmt(m.result.latency.p50, 1),
        fmt(m.result.latency.p99, 1),
        String(m.result["2xx"]),
        String(m.result.non2xx),
        String(m.result.errors + m.result.timeouts + m.result.mismatches),
        String(m.server.handshakes),
        fmt(m.server.handshakes / m.server.requests, 3),
        pct(m.server.cpuMicros, m.seconds),
        fmt(cpuPerRequest(m)),
        pct(m.clientCpuMicros, m.seconds),
      ],
      widths,
    );
  const ratioLine = (e: Measurement<T>) =>
    row(
      [
        label(e),
        fmt(ratio(rps(e), rps(b)), 2),
        fmt(ratio(e.result.latency.p50, b.result.latency.p50), 2),
        fmt(ratio(e.result.latency.p99, b.result.latency.p99), 2),
        "",
        "",
        "",
        "",
        "",
        "",
        fmt(ratio(cpuPerRequest(e), cpuPerRequest(b)), 2),
        "",
      ],
      widths,
    );
  const comparisons = others.map((e): Comparison<T> => {
    const r = ratio(rps(e), rps(b));
    return { target: e.target, ratio: r, projection: ratio(cpuPerRequest(b), cpuPerRequest(e)), pass: r >= goal, best: e };
  });
  const lines = [header, row(head, widths), ...bests.map(line), ...others.map(ratioLine)];
  for (const c of comparisons) {
    // With more than one comparison, each verdict names its pair.
    const pair = others.length > 1 ? `${label(c.best)} ` : "";
    lines.push(
      `  => ${pair}throughput ratio ${fmt(c.ratio, 3)}, target >= ${goal.toFixed(2)}: ${c.pass ? "PASS" : "FAIL"}`,
      // When the load generator, not the server, is the bottleneck, req/s ratios drift towards 1; the CPU each
      // server spent per request says what the ratio would be with each server saturating its core.
      `  => ${pair}server-bound projection (${names[b.target]} CPU/req ÷ ${names[c.target]} CPU/req): ${fmt(c.projection, 3)}, target >= ${goal.toFixed(2)}: ${c.projection >= goal ? "would PASS" : "would FAIL"}`,
    );
  }
  const backendCpu = (m: Measurement<T>) => `(CPU ${pct(m.backend.cpuMicros, m.seconds)})`;
  lines.push(
    `  all runs (2xx req/s, in order): ${runs.map((m) => `${names[m.target]} ${fmt(rps(m))}`).join(", ")}`,
    `  backend during best runs: ${names[b.target]} ${b.backend.requests} req ${backendCpu(b)}, ${others.map((e) => `${names[e.target]} ${e.backend.requests} req with Client-Cert on ${e.backend.clientCertRequests} ${backendCpu(e)}`).join(", ")}`,
  );
  // Little's law: with every connection always waiting for a response, mean latency × rate = connections.
  // Far from 1, the latency figures do not describe the requests that were counted.
  const little = (m: Measurement<T>) => (m.result.latency.average / 1000) * (m.result["2xx"] / m.result.duration) / m.connections;
  lines.push(`  latency consistency (mean latency × req/s ÷ connections, expect ~1): ${bests.map((m) => `${names[m.target]} ${fmt(little(m), 2)}`).join(", ")}`);
  for (const m of bests) {
    if (Math.abs(little(m) - 1) > 0.2) lines.push(`  WARNING: ${names[m.target]}: latency figures are inconsistent with the request rate (${fmt(little(m), 2)}).`);
  }
  for (const m of bests) {
    if (m.server.cpuMicros / 1e6 / m.seconds < 0.85) {
      const client = m.clientCpuMicros / 1e6 / m.seconds >= 0.85 ? "the load generator was saturated" : "other processes on the machine took the CPU";
      lines.push(`  note: the ${names[m.target]} process used ${pct(m.server.cpuMicros, m.seconds)} of a core, so it was not the bottleneck (${client}); read the server-bound projection too.`);
    }
  }
  if (mode === "new-connection") {
    for (const m of bests) {
      const perReq = m.server.handshakes / m.server.requests;
      if (!(perReq >= 0.98)) lines.push(`  WARNING: ${names[m.target]}: only ${fmt(perReq, 3)} handshakes per request; not every request used a new connection.`);
    }
  }
  return { text: lines.join("\n"), comparisons, reference: b };
}

/** A banner for any run whose responses were not all 2xx with the backend's body. */
export function loudProblems<T extends string>(m: Measurement<T>, names: TargetNames<T> = DEFAULT_NAMES as TargetNames<string>): string | null {
  if (problems(m) === 0) return null;
  const codes = Object.entries(m.result.statusCodeStats)
    .map(([code, { count }]) => `${code}×${count}`)
    .join(" ");
  const bar = "!".repeat(78);
  return [
    bar,
    `!! ${names[m.target].toUpperCase()} ${m.mode} round ${m.round + 1}: ${m.result.non2xx} non-2xx, ${m.result.errors} errors (${m.result.timeouts} timeouts), ${m.result.mismatches} body mismatches`,
    `!! status codes: ${codes || "none"}${m.target === "edge" || names !== (DEFAULT_NAMES as TargetNames<string>) ? " -- edge figures that include rejections are NOT a valid measurement" : ""}`,
    bar,
  ].join("\n");
}
