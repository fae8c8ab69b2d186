import { describe, expect, it } from "vitest";
import { htmlReport } from "../../src/conformance/report/html.js";
import { jsonReport } from "../../src/conformance/report/json.js";
import { junitReport } from "../../src/conformance/report/junit.js";
import { liveProgress, summaryTable } from "../../src/conformance/report/terminal.js";
import type { ScenarioResult, SuiteResult } from "../../src/conformance/runner.js";

const HOSTILE = `<script>alert("x")</script> & ' " \u0001 ]]>`;

function result(results: ScenarioResult[]): SuiteResult {
  const n = (s: string) => results.filter((r) => r.status === s).length;
  return {
    startedAt: "2026-12-06T04:00:00.000Z",
    durationMs: 1234,
    mode: "target",
    protocol: "http1.1",
    description: `deployment at edge.example ${HOSTILE}`,
    notes: [`note ${HOSTILE}`],
    counts: { pass: n("pass"), fail: n("fail"), skip: n("skip"), total: results.length },
    results,
  };
}

const base = { area: "tls" as const, origin: ["RFC 8446 §4.1"], durationMs: 12, checks: [], notes: [] };
const SAMPLE = result([
  { ...base, id: "tls10-refused", title: "TLS 1.0 refused", status: "pass", checks: ["the TLS 1.0 handshake is refused"] },
  { ...base, id: "spoofed", area: "hygiene", title: `Spoofed ${HOSTILE}`, status: "fail", message: `expected nothing (seen: ${HOSTILE})\nsecond line`, checks: [`check ${HOSTILE}`] },
  { ...base, id: "needs-pki", area: "certificate", title: "Expired", status: "skip", message: "needs --pki DIR (a test PKI)", durationMs: 0 },
]);

describe("conformance reports", () => {
  it("JUnit XML: one testsuite per area, failure and skipped elements, everything escaped", () => {
    const xml = junitReport(SAMPLE);
    expect(xml).toContain('<testsuites name="ofb-edge conformance" tests="3" failures="1" skipped="1" errors="0" time="1.234"');
    expect(xml.match(/<testsuite /g)).toHaveLength(3);
    expect(xml).toContain('<testcase classname="conformance.hygiene" name="spoofed: Spoofed &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39; &quot; \ufffd ]]&gt;"');
    expect(xml).toContain('<failure message="expected nothing (seen: &lt;script&gt;');
    expect(xml).toContain('<skipped message="needs --pki DIR (a test PKI)"/>');
    expect(xml).not.toContain("<script>");
    expect(xml).not.toContain("\u0001");
    expect(xml).toContain("origin: RFC 8446 §4.1");
  });

  it("HTML: self-contained, verdict FAILED, hostile text escaped, failures open", () => {
    const html = htmlReport(SAMPLE, { name: "ofb-edge", version: "0.1.0" });
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).toContain('<span class="verdict fail">FAILED</span>');
    expect(html).toContain("1 passed, 1 failed, 1 not run, of 3 scenarios");
    expect(html).not.toMatch(/<script>|<link |src="/);
    expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(html).toContain("Not run: needs --pki DIR (a test PKI)");
    expect(html).toMatch(/<details open><summary>1 check made<\/summary>/);
  });

  it("JSON: the result with its format and tool version", () => {
    const parsed = JSON.parse(jsonReport(SAMPLE, { name: "ofb-edge", version: "0.1.0" })) as Record<string, unknown>;
    expect(parsed).toMatchObject({ format: "ofb-edge-conformance/1", tool: { name: "ofb-edge", version: "0.1.0" }, counts: { pass: 1, fail: 1, skip: 1, total: 3 } });
  });

  it("terminal: the table by area with totals, failures with their message, skips grouped by reason", () => {
    const text = summaryTable(SAMPLE);
    expect(text).toMatch(/TLS layer\s+1\s+0\s+0\s+1/);
    expect(text).toMatch(/Header hygiene\s+0\s+1\s+0\s+1/);
    expect(text).toMatch(/All\s+1\s+1\s+1\s+3/);
    expect(text).toContain("hygiene/spoofed:");
    expect(text).toContain("      second line");
    expect(text).toContain("1 × needs --pki DIR (a test PKI)");
    expect(text).toContain("FAILED: 1 of 3 scenarios failed");
  });

  it("live progress: a rewritten status line on a terminal, one line per scenario elsewhere", () => {
    const [tty, plain] = [{ isTTY: true, text: "" }, { isTTY: false, text: "" }];
    for (const out of [tty, plain]) {
      const progress = liveProgress({ isTTY: out.isTTY, columns: 200, write: (s: string) => (out.text += s) }, { colour: false });
      progress({ type: "start", total: 2 });
      const scenario = { id: "tls10-refused", area: "tls" as const, title: "t", origin: ["o"], requires: [], run: async () => undefined };
      progress({ type: "scenario-start", index: 0, scenario });
      progress({ type: "scenario-end", index: 0, result: SAMPLE.results[0]! });
      progress({ type: "scenario-start", index: 1, scenario: { ...scenario, id: "spoofed", area: "hygiene" } });
      progress({ type: "scenario-end", index: 1, result: SAMPLE.results[1]! });
    }
    expect(tty.text).toContain("\r\x1b[2K[2/2] 1 passed 0 failed 0 skipped — hygiene/spoofed");
    expect(tty.text).not.toContain("PASS tls/tls10-refused");
    expect(tty.text).toContain("FAIL hygiene/spoofed (12 ms)");
    expect(plain.text).toBe(`PASS tls/tls10-refused (12 ms)\nFAIL hygiene/spoofed (12 ms)\n      expected nothing (seen: ${SAMPLE.results[1]!.message!.slice("expected nothing (seen: ".length).split("\n").join("\n      ")}\n`);
  });
});
