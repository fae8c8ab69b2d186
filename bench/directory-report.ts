import type { FixtureSummary } from "./directory-fixture.js";
import type { LookupFigures, SyncBreakdown, SyncFigures } from "./directory-measure.js";
import { count as n, latencyLines, median, micros as us } from "./latency.js";
import type { RoleMemory } from "./roles.js";

/** Text of bench/directory.ts's report sections; the measuring lives in directory-measure.ts and directory.ts. */

export const TARGETS = { syncMs: 3_000, inProcessHitMicros: 20, throughputRatio: 0.95 } as const;

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const ms = (v: number) => `${Math.round(v)} ms`;
export const verdict = (pass: boolean) => (pass ? "PASS" : "FAIL");

export function fixtureText(fx: FixtureSummary, generatedMs: number): string {
  const statuses = Object.entries(fx.byStatus)
    .map(([s, c]) => `${s} ${n(c)}`)
    .join(", ");
  return [
    `participants.json: ${mb(fx.participantsBytes)} (${n(fx.participantsBytes)} bytes), ${n(fx.organisations)} organisations (${statuses})`,
    `  ${n(fx.roleClaims)} role claims (${n(fx.inactiveRoleClaims)} Inactive; ${n(fx.withoutRoleClaims)} organisations without any), ${n(fx.authorisationServers)} authorisation servers, ${n(fx.apiResources)} API resources`,
    `keystore: ${n(fx.statements.length)} software statements, ${n(fx.jwksFiles)} JWKS files (active + inactive/), ${mb(fx.keystoreBytes)}; generated in ${(generatedMs / 1000).toFixed(1)} s`,
  ].join("\n");
}

export function syncText(s: SyncFigures, steps: SyncBreakdown): { text: string; pass: boolean } {
  const worst = Math.max(median(s.memoryMs), median(s.redisMs));
  const pass = worst < TARGETS.syncMs;
  const runs = (v: readonly number[]) => v.map((x) => Math.round(x)).join(", ");
  return {
    pass,
    text: [
      `\n== 1. full sync: download ${mb(s.documentBytes)}, parse, publish ${n(s.organisations)} organisations; ${s.redisMs.length} runs per store ==`,
      `  memory store  median ${ms(median(s.memoryMs)).padStart(8)}   runs: ${runs(s.memoryMs)} ms`,
      `  Redis store   median ${ms(median(s.redisMs)).padStart(8)}   runs: ${runs(s.redisMs)} ms`,
      `  steps, timed one by one (median of 3): download ${ms(steps.downloadMs)}, JSON.parse ${ms(steps.jsonParseMs)}, validate (zod) ${ms(steps.validateMs)}, publish to memory ${ms(steps.publishMemoryMs)}, publish to Redis ${ms(steps.publishRedisMs)}`,
      `  => slower store's median ${ms(worst)}, target < ${ms(TARGETS.syncMs)}: ${verdict(pass)}`,
      `\n== 2. Redis memory of one snapshot (private redis-server, INFO memory used_memory after − before each sync) ==`,
      `  median ${mb(median(s.redisBytes))} (runs: ${s.redisBytes.map((b) => mb(b)).join(", ")}); ${n(Math.round(median(s.redisBytes) / s.organisations))} bytes per organisation`,
      `  MEMORY USAGE: organisations hash ${mb(s.orgsHashBytes)}, CNPJ index hash ${mb(s.cnpjHashBytes)}`,
    ].join("\n"),
  };
}

export function lookupText(l: LookupFigures): { text: string; pass: boolean } {
  const pass = l.inProcessHit.p50 < TARGETS.inProcessHitMicros;
  const passP99 = l.inProcessHit.p99 < TARGETS.inProcessHitMicros;
  return {
    pass,
    text: [
      `\n== 3. lookup latency (process.hrtime.bigint() around each awaited call, µs) ==`,
      ...latencyLines(
        [
          { name: "Redis store: in-process hit (same org)", x: l.inProcessHit },
          { name: "Redis store: Redis hit (first after publish)", x: l.redisHit },
          { name: "memory store: hit", x: l.memoryHit },
          { name: "verify(): org + role, no keystore check", x: l.verifyNoKeystore },
          { name: "verify(): + keystore thumbprints (Redis GET)", x: l.verifyKeystoreCached },
          { name: "verify(): + keystore cold (2 JWKS GETs)", x: l.verifyKeystoreCold, note: `${l.verifyOk}/${l.verifyKeystoreCold.samples} verified ok` },
        ],
        44,
      ),
      `  => in-process hit p50 ${us(l.inProcessHit.p50)} µs, p99 ${us(l.inProcessHit.p99)} µs, target < ${TARGETS.inProcessHitMicros} µs: ${verdict(pass)} at p50, ${verdict(passP99)} at p99`,
    ].join("\n"),
  };
}

/** RSS and heap of the edges: after start (which includes the first full sync), the peak under load, and after the runs. */
export function memoryText(rows: readonly { name: string; start: RoleMemory; peakRss: number | null; end: RoleMemory | null }[]): string {
  const cells = ["RSS after start", "heap used", "peak RSS under load", "RSS after runs", "heap used"];
  const widths = [16, 11, 21, 16, 11];
  const line = (name: string, values: readonly string[]) => `  ${name.padEnd(24)}${values.map((v, i) => v.padStart(widths[i]!)).join("")}`;
  const opt = (v: number | undefined | null) => (v === null || v === undefined ? "-" : mb(v));
  return [
    `\n== 5. edge memory (process.memoryUsage() in the child) ==`,
    line("", cells),
    ...rows.map((r) => line(r.name, [mb(r.start.rss), mb(r.start.heapUsed), opt(r.peakRss), opt(r.end?.rss), opt(r.end?.heapUsed)])),
    "  (after start includes the garbage of the edge's first full sync: the document's text and JSON.parse tree until a major GC)",
  ].join("\n");
}
