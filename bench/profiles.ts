import "reflect-metadata";
import { X509Certificate } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { loadOptions } from "./env.js";
import { count } from "./latency.js";
import type { Child, LoadProfile } from "./load.js";
import { best, compareTable, rps, type Measurement, type TargetNames } from "./report.js";
import { benchMain, type RoleStats } from "./roles.js";
import { meanRatio, rotatedRounds, type Run } from "./rounds.js";
import { benchPki, benchRun, forwardedFailures, loadAverage, machineText, probeThrough, setupFailed } from "./setup.js";

/**
 * Header profiles: what forwarding the client's identity to the backend costs the edge.
 *
 * In child processes (bench/roles.ts's protocol): the backend, and edges (one worker each, no `directory` and no
 * `authorizationServer` section) whose one route differs only in `profiles`: `[]` (no identity headers, the
 * reference), `["rfc9440"]` (Client-Cert and Client-Cert-Chain, RFC 8941 Byte Sequences of the DER),
 * `["envoy-xfcc"]` (the heaviest built-in: one x-forwarded-client-cert element with Hash, Cert and Chain as
 * URL-encoded PEM, the chain being every certificate the client sent, Subject DN, and URI/DNS SANs if any), and a
 * control: an operator profile with one constant field exactly as long as envoy-xfcc's addition, so its ratio is
 * what sending those bytes costs without any certificate work. Each edge is verified first: 200 with the
 * backend's body, the interaction id echoed, and the backend receiving client-cert (and client-cert-chain) from
 * rfc9440 only and an x-forwarded-client-cert starting with `Hash=` from envoy-xfcc only; the control's bytes
 * equal envoy-xfcc's. The backend sums the bytes of the header fields it receives, so the probes give the bytes
 * each profile adds per request. Then keep-alive load with participant-a's certificate (leaf + intermediate
 * sent), the four edges in turn, rounds in Prouhet–Thue–Morse order (ABCD BCDA …, the four-target ABBA), best
 * of each, and the ratios to no forwarding.
 *
 * Target: with any built-in profile, throughput ≥ 0.95× no forwarding (the values are cached per certificate).
 * A FAIL is a finding: the exit code is 1 only when the setup fails. Env: `BENCH_DURATION` (10 s),
 * `BENCH_CONNECTIONS` (50), `BENCH_ROUNDS` (4: a multiple of 4 gives each edge each position equally often),
 * `BENCH_WARMUP` (2 s), `BENCH_EDGE_LOG=silent`, `BENCH_CPU_PROF=<dir>` (a profile of each edge's measured runs).
 */

const TARGET_RATIO = 0.95;
const INTERACTION_ID = "5e2d8c4b-1f3a-4b6e-9d7c-2a8f6e4b1c3d";

type Edge = "none" | "rfc9440" | "envoy-xfcc" | "bytes";
/** The built-ins measured against the target, the reference first. */
const BUILT_IN_EDGES = ["none", "rfc9440", "envoy-xfcc"] as const satisfies readonly Edge[];
/** Every edge of a round: the built-ins and the control. */
const EDGES = [...BUILT_IN_EDGES, "bytes"] as const satisfies readonly Edge[];
const NAMES: TargetNames<Edge> = { none: "none", rfc9440: "rfc9440", "envoy-xfcc": "envoy-xfcc", bytes: "bytes control" };
const CONTROL_PROFILE = "bench-bytes";
const CONTROL_FIELD = "x-bench-bytes";
const PROFILES: Readonly<Record<Edge, readonly string[]>> = { none: [], rfc9440: ["rfc9440"], "envoy-xfcc": ["envoy-xfcc"], bytes: [CONTROL_PROFILE] };

/** The identity fields the backend counts, and how many of each every forwarded request must carry, per edge. */
const FIELDS = {
  clientCert: { name: "client-cert", of: (s: RoleStats) => s.clientCertRequests },
  clientCertChain: { name: "client-cert-chain", of: (s: RoleStats) => s.clientCertChainRequests ?? 0 },
  xfcc: { name: "x-forwarded-client-cert", of: (s: RoleStats) => s.xfccRequests ?? 0 },
  xfccHash: { name: "x-forwarded-client-cert starting with Hash=", of: (s: RoleStats) => s.xfccHashRequests ?? 0 },
} as const;
type Field = keyof typeof FIELDS;
const EXPECTED: Readonly<Record<Edge, Readonly<Record<Field, 0 | 1>>>> = {
  none: { clientCert: 0, clientCertChain: 0, xfcc: 0, xfccHash: 0 },
  rfc9440: { clientCert: 1, clientCertChain: 1, xfcc: 0, xfccHash: 0 },
  "envoy-xfcc": { clientCert: 0, clientCertChain: 0, xfcc: 1, xfccHash: 1 },
  bytes: { clientCert: 0, clientCertChain: 0, xfcc: 0, xfccHash: 0 },
};

/** Fields the backend got from `edge` other than expected, over `seen.requests` requests. */
function fieldFailures(edge: Edge, seen: RoleStats): string[] {
  return (Object.keys(FIELDS) as Field[]).flatMap((f) => {
    const [got, expected] = [FIELDS[f].of(seen), EXPECTED[edge][f] * seen.requests];
    return got === expected ? [] : [`${NAMES[edge]}: ${FIELDS[f].name} on ${got} of ${seen.requests} backend request(s) (expected ${expected})`];
  });
}

const bytesPerRequest = (s: RoleStats) => (s.headerBytes ?? 0) / s.requests;

/** Each of `edges` answers 200 with the backend's body and forwards its profile's fields and no other's; the header bytes the backend got from each. */
async function verify(edges: readonly Edge[], servers: Readonly<Partial<Record<Edge, Child>>>, backend: Child, profile: LoadProfile) {
  const failures: string[] = [];
  const headerBytes: Partial<Record<Edge, number>> = {};
  for (const edge of edges) {
    const probed = await probeThrough(servers[edge]!, backend, profile);
    failures.push(...forwardedFailures(NAMES[edge], probed, INTERACTION_ID), ...fieldFailures(edge, probed.seen));
    headerBytes[edge] = bytesPerRequest(probed.seen);
  }
  return { failures, headerBytes };
}

/** Per-run checks: every backend request of a run carried its edge's fields, with the probe's header bytes. */
function runChecks(runs: readonly Run<Edge>[], headerBytes: Readonly<Record<Edge, number>>): string[] {
  const lines: string[] = [];
  for (const { m } of runs) {
    const name = `${NAMES[m.target]} round ${m.round + 1}`;
    for (const failure of fieldFailures(m.target, m.backend)) lines.push(`  WARNING: ${name}: ${failure}`);
    const bytes = bytesPerRequest(m.backend);
    if (Math.abs(bytes - headerBytes[m.target]) > 0.5) lines.push(`  WARNING: ${name}: ${bytes.toFixed(1)} header bytes per backend request, the probe had ${headerBytes[m.target]}`);
  }
  const sum = (edge: Edge, f: (s: RoleStats) => number) => runs.filter((r) => r.m.target === edge).reduce((s, r) => s + f(r.m.backend), 0);
  const on = (edge: Edge, field: Field) => `${FIELDS[field].name} on ${count(sum(edge, FIELDS[field].of))} of ${count(sum(edge, (s) => s.requests))} backend requests`;
  lines.push(`  rfc9440 runs: ${on("rfc9440", "clientCert")}, ${on("rfc9440", "clientCertChain")}; envoy-xfcc runs: ${on("envoy-xfcc", "xfccHash")}; none runs: identity fields on ${count(sum("none", (s) => s.clientCertRequests + (s.clientCertChainRequests ?? 0) + (s.xfccRequests ?? 0)))}`);
  return lines;
}

/** The control profile: one constant field whose `name: value` CRLF adds exactly `bytes` to every request. */
async function writeControlProfile(file: string, bytes: number): Promise<void> {
  const value = "x".repeat(bytes - CONTROL_FIELD.length - 4);
  const headers = [{ name: CONTROL_FIELD, source: "constant", value }];
  await writeFile(file, JSON.stringify({ name: CONTROL_PROFILE, description: "bench/profiles.ts control: envoy-xfcc's bytes, no certificate", headers }));
}

/** DER sizes of the certificates in a PEM chain (leaf first). */
function derSizes(pem: Buffer): number[] {
  return (pem.toString("latin1").match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? []).map((c) => new X509Certificate(c).raw.length);
}

async function main(script: string): Promise<number> {
  const { seconds, connections, warmup, rounds, logLevel, profDir } = await loadOptions(4);
  const began = performance.now();

  const run = await benchRun(script, "profiles-");
  try {
    process.stdout.write(`generating test PKI in ${run.dir} ... `);
    const { profile, spec: spec0 } = await benchPki(run.dir, INTERACTION_ID, logLevel);
    process.stdout.write("done\n");
    const [leaf = 0, ...rest] = derSizes(profile.cert);
    console.log(`client: participant-a, sending its leaf (${leaf} bytes DER) and ${rest.length} intermediate(s) (${rest.join(", ")} bytes DER)`);
    console.log(machineText());

    const backend = await run.spawn("backend", spec0);
    const servers: Partial<Record<Edge, Child>> = {};
    const controlFile = join(run.dir, `${CONTROL_PROFILE}.json`);
    const startEdge = (edge: Edge) =>
      run.spawn("edge", { ...spec0, upstream: `http://127.0.0.1:${backend.port}`, route: { profiles: [...PROFILES[edge]] }, ...(edge === "bytes" ? { profileFiles: [controlFile] } : {}) });
    for (const edge of BUILT_IN_EDGES) servers[edge] = await startEdge(edge);
    const verified = await verify(BUILT_IN_EDGES, servers, backend, profile);
    if (setupFailed(verified.failures)) return 1;
    const builtIn = verified.headerBytes as Record<(typeof BUILT_IN_EDGES)[number], number>;

    // The control: a constant field exactly as long as envoy-xfcc's, with no certificate behind it.
    const added = builtIn["envoy-xfcc"] - builtIn.none;
    await writeControlProfile(controlFile, added);
    servers.bytes = await startEdge("bytes");
    const controlled = await verify(["bytes"], servers, backend, profile);
    const controlBytes = controlled.headerBytes.bytes ?? 0;
    if (controlBytes !== builtIn["envoy-xfcc"]) controlled.failures.push(`bytes control: ${controlBytes} header bytes per request, envoy-xfcc ${builtIn["envoy-xfcc"]}`);
    if (setupFailed(controlled.failures)) return 1;
    const headerBytes: Record<Edge, number> = { ...builtIn, bytes: controlBytes };

    console.log(`\n== edge throughput: one worker, route /open-banking/ with profiles [] vs ["rfc9440"] vs ["envoy-xfcc"], and a control ==`);
    console.log("verified: each edge answers 200 with the backend's body and echoes the interaction id; the backend gets client-cert and client-cert-chain from rfc9440 only,");
    console.log("  x-forwarded-client-cert starting with Hash= from envoy-xfcc only, and no identity field from none or the control");
    const plus = (edge: Edge) => `${NAMES[edge]} ${count(headerBytes[edge])} B (+${count(headerBytes[edge] - headerBytes.none)} B)`;
    console.log(`header fields per request at the backend (name: value CRLF): none ${count(headerBytes.none)} B, ${plus("rfc9440")}, ${plus("envoy-xfcc")}, ${plus("bytes")}`);
    console.log(`control: profiles ["${CONTROL_PROFILE}"], one constant ${CONTROL_FIELD} field as long as envoy-xfcc's addition: what sending those bytes costs without any certificate work`);
    console.log(`keep-alive, ${connections} connections, ${seconds} s per run, ${warmup} s warm-up, ${rounds} round(s) in Prouhet–Thue–Morse order (ABCD BCDA …), best round shown, ${process.env.BENCH_REUSE === "1" ? "the same four edges throughout" : "a freshly started edge for every run"}${logLevel === "silent" ? "; EDGE LOGGING OFF (diagnostic run)" : ""}`);

    // Every run on a freshly started edge (BENCH_REUSE=1: the four verified edges throughout).
    const fresh = process.env.BENCH_REUSE === "1" ? undefined : (edge: string) => startEdge(edge as Edge);
    const runs = await rotatedRounds(EDGES, servers as Record<Edge, Child>, backend, profile, NAMES, rounds, { connections, seconds, warmup, profDir, ...(fresh ? { fresh } : {}) });
    const table = compareTable("keep-alive", runs.map((r) => r.m), BUILT_IN_EDGES, TARGET_RATIO, `\nbest of ${rounds} round(s):`, NAMES);
    console.log(table.text);
    const mean = (a: Edge, b: Edge) => meanRatio(runs, a, b).toFixed(3);
    console.log(`  mean of the runs (drift-cancelled): rfc9440/none ${mean("rfc9440", "none")}, envoy-xfcc/none ${mean("envoy-xfcc", "none")}, bytes control/none ${mean("bytes", "none")}, envoy-xfcc/bytes control ${mean("envoy-xfcc", "bytes")}`);
    for (const line of runChecks(runs, headerBytes)) console.log(line);

    const cpu = (m: Measurement<Edge>) => m.server.cpuMicros / m.server.requests;
    const cpuText = (m: Measurement<Edge>) => {
      const extra = cpu(m) - cpu(table.reference);
      return `server CPU ${cpu(m).toFixed(0)} µs/req (${extra >= 0 ? "+" : ""}${extra.toFixed(1)} µs)`;
    };
    console.log("\nsummary:");
    for (const c of table.comparisons) {
      console.log(
        `  throughput ${NAMES[c.target]} / none: ${c.ratio.toFixed(3)} (target >= ${TARGET_RATIO}): ${c.pass ? "PASS" : "FAIL"}; ${cpuText(c.best)}, projection ${c.projection.toFixed(3)}; +${count(headerBytes[c.target] - headerBytes.none)} header bytes/req`,
      );
    }
    const control = best(runs.filter((r) => r.m.target === "bytes").map((r) => r.m));
    console.log(
      `  control (the same bytes as a constant field): ${(rps(control) / rps(table.reference)).toFixed(3)} of none; ${cpuText(control)}; envoy-xfcc / control ${(rps(table.comparisons[1]!.best) / rps(control)).toFixed(3)} (what the certificate-derived value costs beyond its bytes)`,
    );
    console.log(`  ${table.comparisons.every((c) => c.pass) ? "all built-ins met the target" : "TARGET MISSED"}; load average at the end ${loadAverage()}; total ${((performance.now() - began) / 1000).toFixed(0)} s`);
    if (profDir) console.log(`\nCPU profiles are in ${profDir}; summarise one with: node ${join(dirname(script), "profile-summary.js")} <file.cpuprofile>`);
    return 0;
  } finally {
    await run.close();
  }
}

await benchMain(import.meta.url, main);
