import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startLocalStack } from "../../src/conformance/local.js";
import { LOCAL_SCOPE, type SuiteResult } from "../../src/conformance/runner.js";
import { AREAS } from "../../src/conformance/scenario.js";
import { packageRoot } from "../../src/package-root.js";
import { runConformanceCli, type ConformanceRun } from "../helpers/conformance-cli.js";
import { redisUrl } from "../helpers/redis.js";

// Issue 7 §5: `npm test` runs the whole local suite through the real CLI (`ofb-edge conformance`, built into
// dist/ by `npm test`) and requires every scenario to pass — none skipped, none failed.

let out: string;
let run: ConformanceRun;

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), "ofb-edge-conformance-run-"));
  run = await runConformanceCli(["--out", out]);
}, 180_000);

afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

describe("ofb-edge conformance (local mode)", () => {
  it("runs at least 60 scenarios covering every area, every one passing, in under 2 minutes", async () => {
    const report = JSON.parse(await readFile(join(out, "report.json"), "utf8")) as SuiteResult & { format: string };
    const failed = report.results.filter((r) => r.status !== "pass").map((r) => `${r.status} ${r.area}/${r.id}: ${r.message}`);
    expect(failed, run.stdout.slice(-4000)).toEqual([]);
    expect(run.code, run.stderr).toBe(0);
    expect(report.format).toBe("ofb-edge-conformance/1");
    expect(report.counts.total).toBeGreaterThanOrEqual(60);
    expect(report.counts).toMatchObject({ fail: 0, skip: 0, pass: report.counts.total });
    for (const area of AREAS) expect(report.results.filter((r) => r.area === area).length, area).toBeGreaterThanOrEqual(3);
    for (const r of report.results) {
      expect(r.origin.length, r.id).toBeGreaterThan(0);
      expect(r.checks.length, r.id).toBeGreaterThan(0);
    }
    expect(report.notes.join(" ")).toContain("Redis at");
    expect(run.ms).toBeLessThan(120_000);
  });

  it("every report leads with what it tested: ofb-edge's own local stack (not a deployment), the commit, and a fingerprint a run on other ports shares", async () => {
    const report = JSON.parse(await readFile(join(out, "report.json"), "utf8")) as SuiteResult;
    expect(report.scope).toBe(LOCAL_SCOPE);
    expect(report.mode).toBe("local");
    expect(report.target).toMatch(/^https:\/\/localhost:\d+$/);
    const expected = process.env.OFB_EDGE_COMMIT ? process.env.OFB_EDGE_COMMIT.toLowerCase() : execFileSync("git", ["rev-parse", "HEAD"], { cwd: packageRoot(), encoding: "utf8" }).trim();
    expect(report.commit.id).toBe(expected);
    expect(report.configuration.sha256).toMatch(/^sha256:[0-9a-f]{64}$/);
    const fingerprinted = JSON.stringify(report.configuration.fingerprinted);
    expect(fingerprinted).not.toMatch(/"(port|key|clientSecret|password)":|127\.0\.0\.1:\d/);
    expect(fingerprinted).toContain("<test-pki>/ca/trust-anchors.pem");
    const junit = await readFile(join(out, "junit.xml"), "utf8");
    const html = await readFile(join(out, "report.html"), "utf8");
    for (const text of [run.stdout, junit, html.replace(/&#39;/g, "'")]) {
      expect(text).toContain(LOCAL_SCOPE);
      expect(text).toContain(report.configuration.sha256);
      expect(text).toContain(report.commit.id);
    }
    // Another local stack — its own ports, folder, Redis key prefix and test PKI — with the same configuration.
    const again = await startLocalStack({ pkiDir: inject("pkiDir"), redis: { url: redisUrl() } });
    try {
      expect(again.environment.target.port).not.toBe(Number(new URL(report.target).port));
      expect(again.environment.configuration.sha256).toBe(report.configuration.sha256);
    } finally {
      await again.close();
    }
  });

  it("prints the summary table by area and the verdict, and writes JUnit XML and HTML with every scenario", async () => {
    const report = JSON.parse(await readFile(join(out, "report.json"), "utf8")) as SuiteResult;
    expect(run.stdout).toMatch(/Area\s+Pass\s+Fail\s+Skip\s+Total/);
    expect(run.stdout).toMatch(new RegExp(`All\\s+${report.counts.total}\\s+0\\s+0\\s+${report.counts.total}`));
    expect(run.stdout).toContain(`PASSED: ${report.counts.total} passed, 0 skipped, of ${report.counts.total}`);
    const junit = await readFile(join(out, "junit.xml"), "utf8");
    expect(junit.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
    expect(junit).toContain(`<testsuites name="ofb-edge conformance" tests="${report.counts.total}" failures="0" skipped="0"`);
    expect(junit.match(/<testcase /g)?.length).toBe(report.counts.total);
    const html = await readFile(join(out, "report.html"), "utf8");
    expect(html).toContain("PASSED");
    expect(html).not.toMatch(/<script|<link|src="http/i);
    for (const r of report.results) expect(html).toContain(`${r.id} · `);
  });
});
