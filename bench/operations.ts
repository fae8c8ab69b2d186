import "reflect-metadata";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { cpus } from "./cpus.js";
import { envNumber, loadOptions } from "./env.js";
import { count } from "./latency.js";
import type { Child, LoadProfile } from "./load.js";
import { seedDenyList, startCrlServer, testPkiCrls } from "./operations-fixture.js";
import { OPERATIONS_ROLES, runOperationsRole, type OperationsEdgeSpec, type OperationsRole } from "./operations-roles.js";
import { startBenchRedis } from "./redis-server.js";
import { best, modeTable, type Target, type TargetNames } from "./report.js";
import { keepAliveRounds, meanRatio, type Run } from "./rounds.js";
import { benchMain, type RoleMemory } from "./roles.js";
import { benchPki, benchRun, clientProfile, forwardedFailures, guardRun, loadAverage, machineText, probeThrough, setupFailed } from "./setup.js";

/**
 * Operations: what the edge's per-request revocation and deny-list checks cost.
 *
 * In this process: the test PKI, its CRLs signed with its CA keys (bench/operations-fixture.ts): ssl-ac's with
 * `BENCH_CRL_SERIALS` random serials (default 100,000) plus the `revoked` client's, never participant-a's, and
 * an empty one of the root; a plain-HTTP server serving them; a private `redis-server` whose deny list holds
 * `BENCH_DENY_ENTRIES` entries (default 1,000), participant-b's thumbprint among them, none matching
 * participant-a.
 *
 * In child processes (bench/roles.ts's protocol): the backend, and two edges (bench/operations-roles.ts),
 * identical except that `on` has `revocation: { mode: crl, onStale: hard-fail, urls: <the CRL server> }` and
 * the `denyList` section, and `off` has `revocation: { mode: off }` and no deny list. Both are verified first:
 * 200 with the backend's body for participant-a (on hard-fail, only once both CRLs are in); the revoked client
 * gets 401 CERT_REVOKED from on and 200 from off; participant-b gets 401 CERT_DENIED from on and 200 from off.
 * Then keep-alive load with participant-a's certificate, ABBA BAAB rounds, best of each, and the ratio on/off.
 *
 * The listeners are `permissive` so that a revoked certificate is answered in HTTP; `BENCH_LISTENER=strict`
 * runs both edges with strict listeners, where on closes the revoked client's connection after the handshake.
 * Either way every request is checked (keep-alive connections included).
 *
 * Target: throughput with the checks ≥ 0.95× without. A FAIL is a finding: the exit code is 1 only when the
 * setup fails. Env: `BENCH_DURATION` (10 s), `BENCH_CONNECTIONS` (50), `BENCH_ROUNDS` (4), `BENCH_WARMUP` (2 s),
 * `BENCH_CRL_SERIALS` (100,000), `BENCH_DENY_ENTRIES` (1,000), `BENCH_LISTENER` (permissive | strict),
 * `BENCH_EDGE_LOG=silent`, `BENCH_CPU_PROF=<dir>` (a profile of each edge's measured runs).
 */

const TARGET_RATIO = 0.95;
const INTERACTION_ID = "8d1f4c2a-6b3e-4f7d-a9c5-0e2b4d6f8a1c";
const NAMES: TargetNames = { baseline: "off", edge: "on" };
/** How long the on edge may take to fetch, parse and verify its CRLs before it serves (hard-fail: 503 until then). */
const READY_TIMEOUT_MS = 30_000;

/** The run's clean-up; after SIGINT/SIGTERM what fails is the clean-up at work, not an error worth printing. */
let guard: ReturnType<typeof guardRun> | undefined;

/** A probe's result: the answer and what the backend saw, or the connection closed before an answer. */
type Outcome = Awaited<ReturnType<typeof probeThrough>> | { readonly closed: string };

function attempt(child: Child, backend: Child, profile: LoadProfile): Promise<Outcome> {
  return probeThrough(child, backend, profile).catch((err: Error) => ({ closed: err.message }));
}

/** The OFB error code of a rejection's body (`errors[0].code`). */
function errorCode(body: string): string | undefined {
  try {
    return (JSON.parse(body) as { errors?: { code?: string }[] }).errors?.[0]?.code;
  } catch {
    return undefined;
  }
}

const describe = (o: Outcome) => ("closed" in o ? `connection closed (${o.closed})` : `${o.res.status}${o.res.status === 200 ? "" : ` ${errorCode(o.res.body) ?? ""}`}`.trim());

function forwarded(name: string, o: Outcome): string[] {
  return "closed" in o ? [`${name}: ${describe(o)}, expected 200`] : forwardedFailures(name, o, INTERACTION_ID);
}

/** A refusal with `code`: a 401 in HTTP, or (`closed`) the connection closed after the handshake; never forwarded. */
function refused(name: string, o: Outcome, code: string, closed: boolean): string[] {
  const expected = closed ? "the connection closed after the handshake" : `401 ${code}`;
  if ("closed" in o) return closed ? [] : [`${name}: ${describe(o)}, expected ${expected}`];
  const failures = o.res.status === 401 && errorCode(o.res.body) === code && !closed ? [] : [`${name}: answered ${describe(o)}, expected ${expected}: ${o.res.body.slice(0, 200)}`];
  if (o.seen.requests !== 0) failures.push(`${name}: the backend saw ${o.seen.requests} request(s), expected none`);
  return failures;
}

/** Probes on until it answers 200 (hard-fail: 503 until both CRLs are in); how long that took. */
async function firstServed(child: Child, backend: Child, profile: LoadProfile): Promise<{ ms: number; failure?: string }> {
  const t0 = performance.now();
  for (;;) {
    const o = await attempt(child, backend, profile);
    const ms = performance.now() - t0;
    if (!("closed" in o) && o.res.status === 200) return { ms };
    if (ms > READY_TIMEOUT_MS) return { ms, failure: `on: no 200 for participant-a within ${READY_TIMEOUT_MS / 1000} s, last answer ${describe(o)}` };
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Clients {
  readonly accepted: LoadProfile;
  readonly revoked: LoadProfile;
  readonly denied: LoadProfile;
}

/** What on must refuse, and how: a strict listener closes a revoked client's connection, the deny list answers in HTTP. */
async function onRefuses(on: Child, backend: Child, clients: Clients, strict: boolean, when = ""): Promise<string[]> {
  return [
    ...refused(`on${when}, revoked client`, await attempt(on, backend, clients.revoked), "CERT_REVOKED", strict),
    ...refused(`on${when}, participant-b (denied)`, await attempt(on, backend, clients.denied), "CERT_DENIED", false),
  ];
}

/** Both edges serve participant-a; on refuses the revoked client and participant-b, which off serves. */
async function verify(servers: Readonly<Record<Target, Child>>, backend: Child, clients: Clients, strict: boolean): Promise<string[]> {
  const { edge: on, baseline: off } = servers;
  return [
    ...forwarded("on, participant-a", await attempt(on, backend, clients.accepted)),
    ...forwarded("off, participant-a", await attempt(off, backend, clients.accepted)),
    ...(await onRefuses(on, backend, clients, strict)),
    ...forwarded("off, revoked client", await attempt(off, backend, clients.revoked)),
    ...forwarded("off, participant-b", await attempt(off, backend, clients.denied)),
  ];
}

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
const memoryText = (m: RoleMemory) => `RSS ${mb(m.rss)} MB (heap used ${mb(m.heapUsed)} MB, external ${mb(m.external)} MB)`;

function listenerMode(): OperationsEdgeSpec["listenerMode"] {
  const mode = process.env.BENCH_LISTENER || "permissive";
  if (mode !== "permissive" && mode !== "strict") throw new Error(`BENCH_LISTENER must be permissive or strict, got ${JSON.stringify(mode)}`);
  return mode;
}

async function main(script: string): Promise<number> {
  const crlSerials = Math.round(envNumber("BENCH_CRL_SERIALS", 100_000));
  const denyEntries = Math.round(envNumber("BENCH_DENY_ENTRIES", 1_000));
  const mode = listenerMode();
  // Four rounds (ABBA BAAB), as bench/directory.ts: a 5 % target needs more than two samples per edge.
  const { seconds, connections, warmup, rounds, logLevel, profDir } = await loadOptions(4);
  const began = performance.now();

  const run = await benchRun(script, "operations-");
  const g = (guard = guardRun(run));
  try {
    process.stdout.write(`generating test PKI in ${run.dir}, its CRLs and a deny list ... `);
    const { pki, profile, spec: spec0 } = await benchPki(run.dir, INTERACTION_ID, logLevel);
    const { crls, failures: crlFailures } = await testPkiCrls(pki, crlSerials, Date.now());
    if (setupFailed(crlFailures)) return 1;
    const crlServer = g.add(await startCrlServer(crls));
    const redis = g.add(await startBenchRedis());
    const keyPrefix = `ofb-edge-bench-operations-${randomBytes(4).toString("hex")}:`;
    const [revoked, denied] = [await clientProfile(pki, "revoked", INTERACTION_ID), await clientProfile(pki, "participant-b", INTERACTION_ID)];
    const kinds = await seedDenyList(redis.url, keyPrefix, denyEntries, denied.client.thumbprint);
    process.stdout.write("done\n");
    for (const c of crls) console.log(`CRL of '${c.ac.label}': ${count(c.serials)} serials, ${c.der.length.toLocaleString("en")} bytes DER, signed by the test PKI's key, served at ${crlServer.url(c.path)}`);
    console.log(`  the revoked client's serial is on ssl-ac's CRL, participant-a's on none`);
    console.log(`deny list: ${count(kinds.thumbprint + kinds.organisation + kinds["software-statement"])} entries in ${keyPrefix}deny on a private redis-server (${count(kinds.thumbprint)} thumbprints, participant-b's among them; ${count(kinds.organisation)} organisations, ${count(kinds["software-statement"])} software statements; none matches participant-a)`);
    console.log(machineText());

    const backend = await run.spawn("backend", spec0);
    const base = { ...spec0, upstream: `http://127.0.0.1:${backend.port}`, listenerMode: mode };
    const urls = Object.fromEntries(crls.map((c) => [c.ac.sha256, [crlServer.url(c.path)]]));
    const specs: Record<Target, OperationsEdgeSpec> = {
      edge: { ...base, revocation: { mode: "crl", onStale: "hard-fail", urls }, denyList: { url: redis.url, keyPrefix } },
      baseline: { ...base, revocation: { mode: "off" } },
    };
    const servers: Record<Target, Child> = { baseline: await run.spawn("operations-edge", specs.baseline), edge: await run.spawn("operations-edge", specs.edge) };

    const clients: Clients = { accepted: profile, revoked: revoked.profile, denied: denied.profile };
    const ready = await firstServed(servers.edge, backend, profile);
    const strict = mode === "strict";
    const failures = ready.failure ? [ready.failure] : await verify(servers, backend, clients, strict);
    if (setupFailed(failures)) return 1;
    const fetched = crlServer.requests();
    const memory = { on: await servers.edge.memory(), off: await servers.baseline.memory() };
    console.log(`\n== edge throughput: one worker, ${mode} listener, revocation crl (hard-fail) + deny list vs revocation off ==`);
    console.log(`verified: both answer 200 with the backend's body for participant-a and echo the interaction id; on served its first 200 after ${count(Math.round(ready.ms))} ms`);
    console.log(`  (hard-fail: ${strict ? "connections closed" : "503"} until both CRLs were fetched, parsed and verified; the CRL server got ${fetched} request(s));`);
    console.log(`  the revoked client gets ${strict ? "its connection closed after the handshake" : "401 CERT_REVOKED"} from on, 200 from off; participant-b gets 401 CERT_DENIED from on, 200 from off; nothing refused reached the backend`);
    console.log(`after verification: on ${memoryText(memory.on)}; off ${memoryText(memory.off)}`);
    console.log(`keep-alive, ${connections} connections, ${seconds} s per run, ${warmup} s warm-up, ${rounds} round(s) in ABBA BAAB order, best round shown, ${process.env.BENCH_REUSE === "1" ? "the same two edges throughout" : "a freshly started edge for every run"}; every request from participant-a${logLevel === "silent" ? "; EDGE LOGGING OFF (diagnostic run)" : ""}`);

    // Every run on a freshly started edge (BENCH_REUSE=1: the two verified edges throughout); a fresh on edge is
    // measured only once it serves (both CRLs fetched, parsed and verified).
    const fresh =
      process.env.BENCH_REUSE === "1"
        ? undefined
        : async (target: string) => {
            const child = await run.spawn("operations-edge", specs[target as Target]);
            if (target === "edge") {
              const served = await firstServed(child, backend, profile);
              if (served.failure) throw new Error(served.failure);
            }
            return child;
          };
    const runs = await keepAliveRounds(servers, backend, profile, NAMES, rounds, { connections, seconds, warmup, profDir, ...(fresh ? { fresh } : {}) });
    const table = modeTable("keep-alive", runs.map((r) => r.m), TARGET_RATIO, `\nbest of ${rounds} round(s):`, NAMES);
    console.log(table.text);
    console.log(`  mean of the runs (drift-cancelled): on / off ${meanRatio(runs, "edge", "baseline").toFixed(3)}`);
    const during = crlServer.requests() - fetched;
    const expected = fresh ? runs.filter((r) => r.m.target === "edge").length * fetched : 0;
    console.log(`  CRL server requests during the runs: ${during}${fresh ? ` (${expected} expected: each fresh on edge fetches its CRLs before it serves)` : ""}${during > expected ? "  WARNING: on fetched a CRL again while measured" : ""}`);
    const after = await onRefuses(servers.edge, backend, clients, strict, " after the runs");
    for (const f of after) console.log(`  WARNING: ${f}`);
    if (after.length === 0) console.log("  after the runs, on still refuses the revoked client and participant-b");

    const cpu = (t: Target) => {
      const m = best(runs.filter((r: Run) => r.m.target === t).map((r) => r.m));
      return m.server.cpuMicros / m.server.requests;
    };
    const extra = cpu("edge") - cpu("baseline");
    console.log("\nsummary:");
    console.log(`  throughput on / off: ${table.ratio.toFixed(3)} (target >= ${TARGET_RATIO}): ${table.pass ? "PASS" : "FAIL"}; projection ${(cpu("baseline") / cpu("edge")).toFixed(3)}`);
    console.log(`  server CPU: on ${cpu("edge").toFixed(0)} µs/req, off ${cpu("baseline").toFixed(0)} µs/req, on − off ${extra >= 0 ? "+" : ""}${extra.toFixed(1)} µs/req (what revocation by CRL and the deny list add per request, directly or not)`);
    console.log(`  on holds ${count(crls.reduce((n, c) => n + c.serials, 0))} revoked serials and ${count(denyEntries)} deny entries: external memory (the CRLs' DER and serial index) ${mb(memory.on.external - memory.off.external)} MB over off`);
    console.log(`  load average at the end ${loadAverage()} (${cpus} cores); total ${((performance.now() - began) / 1000).toFixed(0)} s`);
    if (profDir) console.log(`\nCPU profiles are in ${profDir}; summarise one with: node ${join(dirname(script), "profile-summary.js")} <file.cpuprofile>`);
    return 0;
  } finally {
    await g.close();
  }
}

await benchMain(import.meta.url, main, { names: OPERATIONS_ROLES, run: (role, spec) => runOperationsRole(role as OperationsRole, spec as OperationsEdgeSpec) }, () => guard?.interrupted() ?? false);
