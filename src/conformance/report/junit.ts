import { AREA_TITLES, AREAS } from "../scenario.js";
import type { SuiteResult } from "../runner.js";
import { escapeMarkup as x } from "./escape.js";
import { provenanceFacts } from "./provenance.js";

const seconds = (ms: number) => (ms / 1000).toFixed(3);

/**
 * JUnit XML (the de-facto schema Jenkins, GitLab, GitHub and Azure DevOps read): one `testsuite` per area,
 * one `testcase` per scenario; `failure` with the expectation that failed, `skipped` with the missing
 * prerequisite; the checks made and the origin in `system-out`. What was tested — the scope statement, the
 * ofb-edge commit, mode, target, configuration fingerprint, protocol and start — leads the file as a comment and is
 * in every `testsuite`'s `properties` (`ofb-edge.scope`, `ofb-edge.commit`, …), where CI tools show it.
 */
export function junitReport(result: SuiteResult): string {
  const facts: readonly (readonly [string, string])[] = [
    ["ofb-edge.scope", result.scope],
    ["ofb-edge.commit", result.commit.id],
    ["ofb-edge.commit-source", result.commit.source],
    ["ofb-edge.mode", result.mode],
    ["ofb-edge.target", result.target],
    ["ofb-edge.configuration", result.configuration.sha256],
    ["ofb-edge.protocol", result.protocol],
    ["ofb-edge.started-at", result.startedAt],
  ];
  const properties = facts.map(([name, value]) => `      <property name="${x(name)}" value="${x(value)}"/>`);
  const lines = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<!-- ${comment(result.scope)} -->`,
    ...provenanceFacts(result).map(([label, value]) => `<!-- ${comment(`${label}: ${value}`)} -->`),
    `<testsuites name="ofb-edge conformance" tests="${result.counts.total}" failures="${result.counts.fail}" skipped="${result.counts.skip}" errors="0" time="${seconds(result.durationMs)}" timestamp="${x(result.startedAt)}">`,
  ];
  for (const area of AREAS) {
    const cases = result.results.filter((r) => r.area === area);
    if (cases.length === 0) continue;
    const failures = cases.filter((r) => r.status === "fail").length;
    const skipped = cases.filter((r) => r.status === "skip").length;
    const time = cases.reduce((sum, r) => sum + r.durationMs, 0);
    lines.push(`  <testsuite name="${x(AREA_TITLES[area])}" tests="${cases.length}" failures="${failures}" skipped="${skipped}" errors="0" time="${seconds(time)}">`);
    lines.push(`    <properties>`, ...properties, `    </properties>`);
    for (const r of cases) {
      lines.push(`    <testcase classname="conformance.${area}" name="${x(`${r.id}: ${r.title}`)}" time="${seconds(r.durationMs)}">`);
      if (r.status === "fail") lines.push(`      <failure message="${x(firstLine(r.message))}" type="ConformanceFailure">${x(r.message ?? "")}</failure>`);
      if (r.status === "skip") lines.push(`      <skipped message="${x(r.message ?? "")}"/>`);
      const out = [`origin: ${r.origin.join(" | ")}`, ...r.checks.map((c) => `checked: ${c}`), ...r.notes.map((n) => `note: ${n}`)].join("\n");
      lines.push(`      <system-out>${x(out)}</system-out>`);
      lines.push(`    </testcase>`);
    }
    lines.push(`  </testsuite>`);
  }
  lines.push(`</testsuites>`, "");
  return lines.join("\n");
}

/** Text inside an XML comment: characters XML 1.0 forbids replaced, and never `--` (XML 1.0 §2.5). */
function comment(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "\ufffd").replace(/-(?=-)/g, "- ");
}

function firstLine(text: string | undefined): string {
  return (text ?? "").split("\n", 1)[0]!.slice(0, 500);
}
