import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AREAS } from "../../src/conformance/scenario.js";
import type { SuiteResult } from "../../src/conformance/runner.js";
import { runConformanceCli, type ConformanceRun } from "../helpers/conformance-cli.js";

// The whole local suite once more, over HTTP/2 (`ofb-edge conformance --http2`): every request is an HTTP/2 stream
// and every TLS probe offers ALPN h2, and every scenario must pass, none skipped. Beside suite.test.ts (HTTP/1.1).

let out: string;
let run: ConformanceRun;

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), "ofb-edge-conformance-h2-"));
  run = await runConformanceCli(["--http2", "--out", out]);
}, 180_000);

afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

describe("ofb-edge conformance --http2 (local mode)", () => {
  it("runs every scenario of every area over HTTP/2, every one passing, and the report says so", async () => {
    const report = JSON.parse(await readFile(join(out, "report.json"), "utf8")) as SuiteResult;
    const failed = report.results.filter((r) => r.status !== "pass").map((r) => `${r.status} ${r.area}/${r.id}: ${r.message}`);
    expect(failed, run.stdout.slice(-4000)).toEqual([]);
    expect(run.code, run.stderr).toBe(0);
    expect(report.protocol).toBe("http2");
    expect(report.description).toContain("over HTTP/2");
    expect(report.counts.total).toBeGreaterThanOrEqual(60);
    expect(report.counts).toMatchObject({ fail: 0, skip: 0, pass: report.counts.total });
    for (const area of AREAS) expect(report.results.filter((r) => r.area === area).length, area).toBeGreaterThanOrEqual(3);
    expect(run.ms).toBeLessThan(120_000);
  });

  it("the TLS probes saw the edge select h2 in ALPN", async () => {
    const report = JSON.parse(await readFile(join(out, "report.json"), "utf8")) as SuiteResult;
    const alpn = report.results.filter((r) => r.area === "tls" && r.checks.some((c) => c.startsWith("the application protocol the edge selects in ALPN")));
    expect(alpn.length).toBeGreaterThanOrEqual(5);
  });
});
