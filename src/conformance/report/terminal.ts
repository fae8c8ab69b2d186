import { AREA_TITLES, AREAS } from "../scenario.js";
import type { RunEvent, SuiteResult } from "../runner.js";
import { provenanceFacts } from "./provenance.js";

interface Output {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

const COLOUR = { pass: "\x1b[32m", fail: "\x1b[31m", skip: "\x1b[90m", bold: "\x1b[1m", reset: "\x1b[0m" } as const;
const LABEL = { pass: "PASS", fail: "FAIL", skip: "SKIP" } as const;

/**
 * The live view: on a terminal, one status line rewritten in place (which scenario is running, pass/fail/skip
 * counts) with failures printed above it as they happen; elsewhere (CI logs), one line per scenario.
 */
export function liveProgress(out: Output, o: { readonly colour?: boolean } = {}): (e: RunEvent) => void {
  const tty = out.isTTY === true;
  const colour = o.colour ?? tty;
  const paint = (c: keyof typeof COLOUR, text: string) => (colour ? `${COLOUR[c]}${text}${COLOUR.reset}` : text);
  const counts = { pass: 0, fail: 0, skip: 0 };
  let total = 0;
  const clear = () => tty && out.write("\r\x1b[2K");
  return (e) => {
    if (e.type === "start") {
      total = e.total;
      return;
    }
    if (e.type === "scenario-start") {
      if (!tty) return;
      const line = `[${e.index + 1}/${total}] ${paint("pass", `${counts.pass} passed`)} ${paint("fail", `${counts.fail} failed`)} ${paint("skip", `${counts.skip} skipped`)} — ${e.scenario.area}/${e.scenario.id}`;
      clear();
      out.write(line.slice(0, Math.max(40, (out.columns ?? 120) + (colour ? 30 : 0))));
      return;
    }
    const r = e.result;
    counts[r.status]++;
    if (tty && r.status === "pass") return;
    clear();
    const head = `${paint(r.status, LABEL[r.status])} ${r.area}/${r.id} (${r.durationMs} ms)`;
    out.write(`${head}${r.message ? `\n      ${r.message.split("\n").join("\n      ")}` : ""}\n`);
  };
}

/**
 * What was tested (the scope statement, then the ofb-edge commit, mode, target, configuration fingerprint, protocol
 * and start), the summary table grouped by area, the failures and the reasons scenarios were skipped, and the verdict
 * with the scope statement again.
 */
export function summaryTable(result: SuiteResult, o: { readonly colour?: boolean } = {}): string {
  const paint = (c: keyof typeof COLOUR, text: string) => (o.colour ? `${COLOUR[c]}${text}${COLOUR.reset}` : text);
  const rows = AREAS.flatMap((area) => {
    const rs = result.results.filter((r) => r.area === area);
    if (rs.length === 0) return [];
    const n = (s: "pass" | "fail" | "skip") => rs.filter((r) => r.status === s).length;
    return [[AREA_TITLES[area], n("pass"), n("fail"), n("skip"), rs.length] as const];
  });
  const { pass, fail, skip, total } = result.counts;
  const header = ["Area", "Pass", "Fail", "Skip", "Total"] as const;
  const footer = ["All", pass, fail, skip, total] as const;
  const all = [header, ...rows, footer];
  const widths = [0, 1, 2, 3, 4].map((i) => Math.max(...all.map((r) => String(r[i]).length)));
  const line = (r: readonly (string | number)[]) => r.map((v, i) => (i === 0 ? String(v).padEnd(widths[i]!) : String(v).padStart(widths[i]!))).join("  ");
  const rule = widths.map((w) => "─".repeat(w)).join("  ");
  const facts = provenanceFacts(result);
  const labelWidth = Math.max(...facts.map(([label]) => label.length));
  const out = [
    "",
    paint("bold", result.scope),
    ...facts.map(([label, value]) => `  ${`${label}:`.padEnd(labelWidth + 1)} ${value}`),
    "",
    result.description,
    ...result.notes.map((n) => `note: ${n}`),
    "",
    line(header),
    rule,
    ...rows.map(line),
    rule,
    line(footer),
    "",
  ];
  const failed = result.results.filter((r) => r.status === "fail");
  if (failed.length) {
    out.push(paint("fail", "Failed:"));
    for (const r of failed) out.push(`  ${r.area}/${r.id}: ${r.title}`, `      ${(r.message ?? "").split("\n").join("\n      ")}`);
    out.push("");
  }
  const skipped = result.results.filter((r) => r.status === "skip");
  if (skipped.length) {
    const byReason = new Map<string, string[]>();
    for (const r of skipped) byReason.set(r.message ?? "", [...(byReason.get(r.message ?? "") ?? []), r.id]);
    out.push("Skipped:");
    for (const [reason, ids] of byReason) out.push(`  ${ids.length} × ${reason}`, `      ${ids.join(", ")}`);
    out.push("");
  }
  const verdict = fail > 0 ? paint("fail", `FAILED: ${fail} of ${total} scenarios failed`) : paint("pass", `PASSED: ${pass} passed, ${skip} skipped, of ${total}`);
  out.push(`${paint("bold", verdict)} in ${(result.durationMs / 1000).toFixed(1)} s (${result.scope})`, "");
  return out.join("\n");
}
