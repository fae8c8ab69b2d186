import { AREA_TITLES, AREAS } from "../scenario.js";
import type { ScenarioResult, SuiteResult } from "../runner.js";
import { escapeMarkup as x } from "./escape.js";
import { provenanceFacts } from "./provenance.js";

const STATUS_LABEL = { pass: "Passed", fail: "Failed", skip: "Not run" } as const;

const CSS = `
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2733;margin:0;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:32px 24px 64px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;margin:36px 0 8px;border-bottom:1px solid #d5dae1;padding-bottom:4px}
.meta{color:#55606e;margin:0 0 20px}.verdict{display:inline-block;font-weight:700;padding:6px 14px;border-radius:6px;color:#fff}
.verdict.pass{background:#1f7a3f}.verdict.fail{background:#b42318}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #d5dae1}
th,td{text-align:left;vertical-align:top;padding:8px 10px;border-bottom:1px solid #e6e9ee}th{background:#eef1f5;font-weight:600}
.summary td,.summary th{text-align:right}.summary td:first-child,.summary th:first-child{text-align:left}
.badge{display:inline-block;min-width:64px;text-align:center;font-size:12px;font-weight:700;border-radius:4px;padding:2px 6px;color:#fff}
.badge.pass{background:#1f7a3f}.badge.fail{background:#b42318}.badge.skip{background:#8a94a3}
.id{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;color:#55606e}
.origin{font-size:13px;color:#3b4654;margin:4px 0 0;padding-left:18px}
details{margin-top:6px}summary{cursor:pointer;color:#2456a6;font-size:13px}
.checks{font-size:13px;margin:4px 0;padding-left:18px}.checks li::marker{content:"✓ "}
.message{white-space:pre-wrap;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;background:#fff4f2;border-left:3px solid #b42318;padding:6px 8px;margin:6px 0}
.skipmsg{font-size:13px;color:#55606e}.note{font-size:13px;color:#7a5b00}
ul.notes{margin:0 0 8px;padding-left:18px}
.scope{font-size:17px;font-weight:700;padding:10px 14px;border-radius:6px;margin:8px 0 16px;border-left:6px solid}
.scope.local{background:#fff6db;border-color:#b7791f;color:#5c3d00}.scope.target{background:#e8f0fe;border-color:#2456a6;color:#123a7a}
table.facts{width:auto;margin:0 0 16px}table.facts th{width:150px}table.facts td{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px;word-break:break-all}
@media print{body{background:#fff}details{display:block}summary{display:none}}
`;

/**
 * A self-contained HTML report (no scripts, no external resources) for a reader outside engineering: the scope
 * statement (a local run tests ofb-edge's own stack, not a deployment), what was tested (ofb-edge commit, mode,
 * target, configuration fingerprint, protocol, start), the verdict, a summary per area, then every scenario with
 * its origin, what was checked and why it failed or was not run.
 */
export function htmlReport(result: SuiteResult, tool: { readonly name: string; readonly version: string }): string {
  const ok = result.counts.fail === 0;
  const summaryRows = AREAS.map((area) => {
    const rs = result.results.filter((r) => r.area === area);
    if (rs.length === 0) return "";
    const n = (s: ScenarioResult["status"]) => rs.filter((r) => r.status === s).length;
    return `<tr><td>${x(AREA_TITLES[area])}</td><td>${n("pass")}</td><td>${n("fail")}</td><td>${n("skip")}</td><td>${rs.length}</td></tr>`;
  }).join("");
  const sections = AREAS.map((area) => {
    const rs = result.results.filter((r) => r.area === area);
    if (rs.length === 0) return "";
    return `<h2>${x(AREA_TITLES[area])}</h2>
<table><thead><tr><th style="width:90px">Result</th><th>Scenario</th></tr></thead><tbody>
${rs.map(row).join("\n")}
</tbody></table>`;
  }).join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>ofb-edge conformance report — ${ok ? "passed" : "failed"}</title><style>${CSS}</style></head>
<body><main>
<h1>Open Finance Brasil edge conformance report</h1>
<p class="scope ${result.mode}">${x(result.scope)}</p>
<p class="meta">${x(tool.name)} ${x(tool.version)} · run ${x(result.startedAt)} · ${(result.durationMs / 1000).toFixed(1)} s · ${result.mode === "local" ? "local stack" : "deployment"}</p>
<table class="facts"><tbody>${provenanceFacts(result)
    .map(([label, value]) => `<tr><th>${x(label)}</th><td>${x(value)}</td></tr>`)
    .join("")}</tbody></table>
<p><span class="verdict ${ok ? "pass" : "fail"}">${ok ? "PASSED" : "FAILED"}</span> &nbsp;${result.counts.pass} passed, ${result.counts.fail} failed, ${result.counts.skip} not run, of ${result.counts.total} scenarios.</p>
<p>${x(result.description)}</p>
${result.notes.length ? `<ul class="notes">${result.notes.map((n) => `<li class="note">${x(n)}</li>`).join("")}</ul>` : ""}
<table class="summary"><thead><tr><th>Area</th><th>Passed</th><th>Failed</th><th>Not run</th><th>Total</th></tr></thead><tbody>${summaryRows}</tbody></table>
${sections}
</main></body></html>
`;
}

function row(r: ScenarioResult): string {
  const origin = `<ul class="origin">${r.origin.map((o) => `<li>${x(o)}</li>`).join("")}</ul>`;
  const message =
    r.status === "fail" ? `<div class="message">${x(r.message ?? "")}</div>` : r.status === "skip" ? `<div class="skipmsg">Not run: ${x(r.message ?? "")}</div>` : "";
  const checks = r.checks.length
    ? `<details${r.status === "fail" ? " open" : ""}><summary>${r.checks.length} check${r.checks.length === 1 ? "" : "s"} made</summary><ul class="checks">${r.checks.map((c) => `<li>${x(c)}</li>`).join("")}</ul></details>`
    : "";
  const notes = r.notes.map((n) => `<div class="note">Note: ${x(n)}</div>`).join("");
  return `<tr><td><span class="badge ${r.status}">${STATUS_LABEL[r.status]}</span></td><td><strong>${x(r.title)}</strong> <span class="id">${x(r.id)} · ${r.durationMs} ms</span>${origin}${message}${notes}${checks}</td></tr>`;
}
