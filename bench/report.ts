import type { Result } from "autocannon";
import type { Mode } from "./load.js";
import type { RoleStats } from "./roles.js";

export type Target = "baseline" | "edge";

/** How tables name the two targets (bench/directory.ts compares an edge with the Directory check on and off). */
export type TargetNames = Readonly<Record<Target, string>>;
const DEFAULT_NAMES: TargetNames = { baseline: "baseline", edge: "edge" };

/** One measured run and what every process did during it. */
export interface Measurement {
  readonly target: Target;
  readonly mode: Mode;
  readonly round: number;
  readonly connections: number;
  readonly result: Result;
  /** Wall-clock seconds of the measured run, from the parent. */
  readonly seconds: number;
  /** Differences of the server's, the backend's and the load generator's counters over the run. */
  readonly server: RoleStats;
  readonly backend: RoleStats;
  readonly clientCpuMicros: number;
}

/** Successful responses per second: a run of errors must not look fast. */
export function rps(m: Measurement): number {
  return m.result["2xx"] / m.result.duration;
}

/** The best of a target's rounds (highest 2xx req/s); its latency figures come from that same run. */
export function best(runs: readonly Measurement[]): Measurement {
  return runs.reduce((a, b) => (rps(b) > rps(a) ? b : a));
}

export function problems(m: Measurement): number {
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
  const of = (t: Target) => runs.filter((m) => m.target === t);
  const b = best(of("baseline"));
  const e = best(of("edge"));
  const ratioLabel = `${names.edge}/${names.baseline}`;
  const widths = [Math.max(14, ratioLabel.length + 1, names.baseline.length + 1, names.edge.length + 1), 9, 7, 7, 9, 8, 7, 11, 10, 10, 10, 10];
  const head = ["", "req/s", "p50 ms", "p99 ms", "2xx", "non-2xx", "errors", "handshakes", "hs/req", "srv CPU", "µs CPU/req", "client CPU"];
  const line = (name: string, m: Measurement) =>
    row(
      [
        name,
        fmt(rps(m)),
        fmt(m.result.latency.p50, 1),
        fmt(m.result.latency.p99, 1),
        String(m.result["2xx"]),
        String(m.result.non2xx),
        String(m.result.errors + m.result.timeouts + m.result.mismatches),
        String(m.server.handshakes),
        fmt(m.server.handshakes / m.server.requests, 3),
        pct(m.server.cpuMicros, m.seconds),
        fmt(m.server.cpuMicros / m.server.requests),
        pct(m.clientCpuMicros, m.seconds),
      ],
      widths,
    );
  const r = ratio(rps(e), rps(b));
  const pass = r >= target;
  const cpuRatio = ratio(b.server.cpuMicros / b.server.requests, e.server.cpuMicros / e.server.requests);
  const lines = [
    header,
    row(head, widths),
    line(names.baseline, b),
    line(names.edge, e),
    row(
      [
        ratioLabel,
        fmt(r, 2),
        fmt(ratio(e.result.latency.p50, b.result.latency.p50), 2),
        fmt(ratio(e.result.latency.p99, b.result.latency.p99), 2),
        "",
        "",
        "",
        "",
        "",
        "",
        fmt(ratio(e.server.cpuMicros / e.server.requests, b.server.cpuMicros / b.server.requests), 2),
        "",
      ],
      widths,
    ),
    `  => throughput ratio ${fmt(r, 3)}, target >= ${target.toFixed(2)}: ${pass ? "PASS" : "FAIL"}`,
    // When the load generator, not the server, is the bottleneck, req/s ratios drift towards 1; the CPU each
    // server spent per request says what the ratio would be with each server saturating its core.
    `  => server-bound projection (${names.baseline} CPU/req ÷ ${names.edge} CPU/req): ${fmt(cpuRatio, 3)}, target >= ${target.toFixed(2)}: ${cpuRatio >= target ? "would PASS" : "would FAIL"}`,
    `  all runs (2xx req/s, in order): ${runs.map((m) => `${names[m.target]} ${fmt(rps(m))}`).join(", ")}`,
    `  backend during best runs: ${names.baseline} ${b.backend.requests} req (CPU ${pct(b.backend.cpuMicros, b.seconds)}), ${names.edge} ${e.backend.requests} req with Client-Cert on ${e.backend.clientCertRequests} (CPU ${pct(e.backend.cpuMicros, e.seconds)})`,
  ];
  // Little's law: with every connection always waiting for a response, mean latency × rate = connections.
  // Far from 1, the latency figures do not describe the requests that were counted.
  const little = (m: Measurement) => (m.result.latency.average / 1000) * (m.result["2xx"] / m.result.duration) / m.connections;
  lines.push(`  latency consistency (mean latency × req/s ÷ connections, expect ~1): ${names.baseline} ${fmt(little(b), 2)}, ${names.edge} ${fmt(little(e), 2)}`);
  for (const m of [b, e]) {
    if (Math.abs(little(m) - 1) > 0.2) lines.push(`  WARNING: ${names[m.target]}: latency figures are inconsistent with the request rate (${fmt(little(m), 2)}).`);
  }
  for (const m of [b, e]) {
    if (m.server.cpuMicros / 1e6 / m.seconds < 0.85) {
      const client = m.clientCpuMicros / 1e6 / m.seconds >= 0.85 ? "the load generator was saturated" : "other processes on the machine took the CPU";
      lines.push(`  note: the ${names[m.target]} process used ${pct(m.server.cpuMicros, m.seconds)} of a core, so it was not the bottleneck (${client}); read the server-bound projection too.`);
    }
  }
  if (mode === "new-connection") {
    for (const m of [b, e]) {
      const perReq = m.server.handshakes / m.server.requests;
      if (!(perReq >= 0.98)) lines.push(`  WARNING: ${names[m.target]}: only ${fmt(perReq, 3)} handshakes per request; not every request used a new connection.`);
    }
  }
  return { text: lines.join("\n"), pass, ratio: r };
}

/** A banner for any run whose responses were not all 2xx with the backend's body. */
export function loudProblems(m: Measurement, names: TargetNames = DEFAULT_NAMES): string | null {
  if (problems(m) === 0) return null;
  const codes = Object.entries(m.result.statusCodeStats)
    .map(([code, { count }]) => `${code}×${count}`)
    .join(" ");
  const bar = "!".repeat(78);
  return [
    bar,
    `!! ${names[m.target].toUpperCase()} ${m.mode} round ${m.round + 1}: ${m.result.non2xx} non-2xx, ${m.result.errors} errors (${m.result.timeouts} timeouts), ${m.result.mismatches} body mismatches`,
    `!! status codes: ${codes || "none"}${m.target === "edge" || names !== DEFAULT_NAMES ? " -- edge figures that include rejections are NOT a valid measurement" : ""}`,
    bar,
  ].join("\n");
}
