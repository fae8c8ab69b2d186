import { describe, expect, it } from "vitest";
import { escapeMarkup as x } from "../../src/conformance/report/escape.js";
import { htmlReport } from "../../src/conformance/report/html.js";
import { jsonReport } from "../../src/conformance/report/json.js";
import { junitReport } from "../../src/conformance/report/junit.js";
import { liveProgress, summaryTable } from "../../src/conformance/report/terminal.js";
import { fingerprintOf } from "../../src/conformance/fingerprint.js";
import { LOCAL_SCOPE, scopeStatement, type ScenarioResult, type SuiteResult } from "../../src/conformance/runner.js";

const HOSTILE = `<script>alert("x")</script> & ' " \u0001 ]]>`;
const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const TARGET_URL = "https://edge.example:8443";

function result(results: ScenarioResult[], mode: SuiteResult["mode"] = "target"): SuiteResult {
  const n = (s: string) => results.filter((r) => r.status === s).length;
  const target = mode === "local" ? "https://localhost:40123" : TARGET_URL;
  return {
    startedAt: "2026-12-06T04:00:00.000Z",
    durationMs: 1234,
    scope: scopeStatement({ mode, target: { url: target, host: "", port: 0, servername: "", verifyServer: true } }),
    commit: mode === "local" ? { id: COMMIT, source: "git", modified: true } : { id: COMMIT, source: "OFB_EDGE_COMMIT" },
    mode,
    target,
    protocol: mode === "local" ? "http2" : "http1.1",
    configuration: fingerprintOf(`the ${mode} configuration`, { mode, note: HOSTILE }),
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

  for (const mode of ["local", "target"] as const) {
    describe(`what a ${mode} run tested, in every format`, () => {
      const r = result(SAMPLE.results as ScenarioResult[], mode);
      const statement = mode === "local" ? LOCAL_SCOPE : `target: tests the deployment at ${TARGET_URL}`;
      const fingerprint = r.configuration.sha256;

      it("JSON: the scope statement first, then commit, mode, target, protocol, start and the configuration fingerprint with its document", () => {
        const text = jsonReport(r, { name: "ofb-edge", version: "0.1.0" });
        const parsed = JSON.parse(text) as Record<string, unknown>;
        expect(Object.keys(parsed).slice(0, 3)).toEqual(["format", "scope", "tool"]);
        expect(parsed.scope).toContain(statement);
        expect(parsed).toMatchObject({
          commit: { id: COMMIT, source: mode === "local" ? "git" : "OFB_EDGE_COMMIT" },
          mode,
          target: r.target,
          protocol: r.protocol,
          startedAt: "2026-12-06T04:00:00.000Z",
          configuration: { sha256: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), of: `the ${mode} configuration`, fingerprinted: { mode, note: HOSTILE } },
        });
      });

      it("JUnit XML: the statement and the facts as a leading comment and as every testsuite's properties", () => {
        const xml = junitReport(r);
        const head = xml.slice(0, xml.indexOf("<testsuites "));
        expect(head).toContain(`<!-- ${statement}`);
        expect(head).toContain(`ofb-edge commit: ${COMMIT}`);
        expect(head).toContain(`Configuration: ${fingerprint}`);
        const suites = xml.split("<testsuite ").slice(1);
        expect(suites).toHaveLength(3);
        for (const suite of suites) {
          expect(suite).toMatch(/^[^>]*>\n    <properties>/);
          expect(suite).toContain(`<property name="ofb-edge.scope" value="${statement.replace(/'/g, "&#39;")}`);
          expect(suite).toContain(`<property name="ofb-edge.commit" value="${COMMIT}"/>`);
          expect(suite).toContain(`<property name="ofb-edge.mode" value="${mode}"/>`);
          expect(suite).toContain(`<property name="ofb-edge.target" value="${r.target}"/>`);
          expect(suite).toContain(`<property name="ofb-edge.configuration" value="${fingerprint}"/>`);
          expect(suite).toContain(`<property name="ofb-edge.protocol" value="${r.protocol}"/>`);
          expect(suite).toContain(`<property name="ofb-edge.started-at" value="2026-12-06T04:00:00.000Z"/>`);
        }
        for (const c of xml.match(/<!--[\s\S]*?-->/g)!) expect(c.slice(4, -3)).not.toContain("--");
      });

      it("HTML: the statement in a banner above the verdict, and a table of commit, mode, target, fingerprint, protocol and start", () => {
        const html = htmlReport(r, { name: "ofb-edge", version: "0.1.0" });
        const banner = html.indexOf(`<p class="scope ${mode}">${x(statement)}`);
        expect(banner).toBeGreaterThan(html.indexOf("<h1>"));
        expect(banner).toBeLessThan(html.indexOf('class="verdict'));
        expect(html).toContain(`<tr><th>ofb-edge commit</th><td>${COMMIT} (${mode === "local" ? "git checkout, tracked files modified" : "OFB_EDGE_COMMIT"})</td></tr>`);
        expect(html).toContain(`<tr><th>Mode</th><td>${mode}`);
        expect(html).toContain(`<tr><th>Target</th><td>${r.target}</td></tr>`);
        expect(html).toContain(`<tr><th>Configuration</th><td>${fingerprint} (the ${mode} configuration)</td></tr>`);
        expect(html).toContain(`<tr><th>Protocol</th><td>${mode === "local" ? "HTTP/2" : "HTTP/1.1"}</td></tr>`);
        expect(html).toContain("<tr><th>Started</th><td>2026-12-06T04:00:00.000Z</td></tr>");
      });

      it("terminal: the statement leads the summary with the facts under it, and follows the verdict", () => {
        const lines = summaryTable(r).split("\n");
        expect(lines[1]).toContain(statement);
        expect(lines.slice(2, 8).join("\n")).toMatch(new RegExp(`ofb-edge commit: +${COMMIT}[\\s\\S]*Mode: +${mode}[\\s\\S]*Target: +${r.target.replace(/[.]/g, "\\.")}[\\s\\S]*Configuration: +${fingerprint}[\\s\\S]*Protocol: +HTTP/[\\s\\S]*Started: +2026-12-06T04:00:00\\.000Z`));
        expect(lines.find((l) => l.startsWith("FAILED:"))).toContain(`(${statement}`);
      });
    });
  }

  it("an unknown commit says why it is unknown", () => {
    const r = { ...SAMPLE, commit: { id: "unknown", source: "unknown" as const } };
    expect(summaryTable(r)).toMatch(/ofb-edge commit: +unknown \(neither OFB_EDGE_COMMIT nor a git checkout\)/);
    expect(junitReport(r)).toContain('<property name="ofb-edge.commit-source" value="unknown"/>');
    const dashes = junitReport({ ...r, target: "https://a--b.example/--x-" });
    expect(dashes).toContain("<!-- Target: https://a- -b.example/- -x- -->");
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
