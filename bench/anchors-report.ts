import type { Mode } from "./load.js";
import { best, problems, rps, type Measurement } from "./report.js";

/** One measured run of bench/anchors.ts: the server's CPU is its whole process tree's, its requests the backend's count. */
export interface AnchorRun<T extends string> {
  readonly m: Measurement<T>;
}

/** The issue's targets: the edge's CPU per full handshake + request ≤ 1.3× nginx's in the same run; ≤ 110 µs per keep-alive request. */
export const ANCHOR_TARGETS = { handshakeVsNginx: 1.3, keepAliveMicros: 110 } as const;

/** The middle value, or the mean of the two middle values (two rounds: their mean). */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");
const cpuPerRequest = (m: Measurement<string>) => m.server.cpuMicros / m.server.requests;

/**
 * The table of one mode: per server its best run's req/s and latency, its median (and lowest) server CPU per request
 * over the rounds, the whole tree's CPU as a share of one core, and the ratios to nginx (the first server when nginx is
 * absent); then the verdict against the edge's target for this mode.
 */
export function anchorsTable<T extends string>(mode: Mode, runs: readonly AnchorRun<T>[], targets: readonly T[], names: Readonly<Record<T, string>>): string {
  const widths = [28, 9, 8, 8, 9, 7, 9, 13, 13, 11, 11];
  const row = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" ");
  const per = targets.map((t) => {
    const ms = runs.filter((r) => r.m.target === t).map((r) => r.m);
    const b = best(ms);
    const cpu = ms.map(cpuPerRequest);
    return { t, b, medianCpu: median(cpu), minCpu: Math.min(...cpu), errors: ms.reduce((s, m) => s + problems(m), 0), load: b.server.cpuMicros / 1e6 / b.seconds };
  });
  const reference = per.find((p) => p.t === ("nginx" as T)) ?? per[0]!;
  const lines = [
    `\n== ${mode === "keep-alive" ? "keep-alive" : "handshake (one request per connection)"}: best req/s, median server CPU per request over the rounds ==`,
    row(["", "req/s", "p50 ms", "p99 ms", "2xx", "errors", "srv CPU", "µs CPU/req", "(lowest)", "× req/s", "× CPU/req"]),
  ];
  for (const p of per) {
    lines.push(
      row([
        names[p.t],
        fmt(rps(p.b)),
        fmt(p.b.result.latency.p50, 1),
        fmt(p.b.result.latency.p99, 1),
        String(p.b.result["2xx"]),
        String(p.errors),
        `${Math.round(p.load * 100)}%`,
        fmt(p.medianCpu),
        fmt(p.minCpu),
        fmt(rps(p.b) / rps(reference.b), 2),
        fmt(p.medianCpu / reference.medianCpu, 2),
      ]),
    );
  }
  lines.push(`  ratios (×) are to ${names[reference.t]}; srv CPU is the server's whole process tree in its best run, as a share of one core`);
  const edge = per.find((p) => p.t === ("edge" as T));
  if (edge) {
    if (mode === "new-connection" && reference.t === ("nginx" as T)) {
      const r = edge.medianCpu / reference.medianCpu;
      lines.push(`  => edge CPU per handshake + request ${fmt(r, 2)}× nginx's (target <= ${ANCHOR_TARGETS.handshakeVsNginx}): ${r <= ANCHOR_TARGETS.handshakeVsNginx ? "PASS" : "FAIL"}`);
    } else if (mode === "keep-alive") {
      lines.push(`  => edge CPU per keep-alive request ${fmt(edge.medianCpu)} µs (target <= ${ANCHOR_TARGETS.keepAliveMicros}): ${edge.medianCpu <= ANCHOR_TARGETS.keepAliveMicros ? "PASS" : "FAIL"}`);
    }
  }
  lines.push(`  all runs (µs CPU/req, in order): ${runs.map((r) => `${r.m.target} ${fmt(cpuPerRequest(r.m))}`).join(", ")}`);
  return lines.join("\n");
}
