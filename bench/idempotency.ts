import "reflect-metadata";
import { dirname, join } from "node:path";
import { measureRuleCosts } from "./idempotency-measure.js";
import { RULES_ROLES, runRulesRole, type RulesEdgeSpec, type RulesRole } from "./idempotency-roles.js";
import { loadOptions } from "./env.js";
import type { Child, LoadProfile } from "./load.js";
import { startBenchRedis, type BenchRedis } from "./redis-server.js";
import { compareTable, type Measurement, type TargetNames } from "./report.js";
import { BACKEND_BODY, benchMain } from "./roles.js";
import { meanRatio, rotatedRounds, type Run } from "./rounds.js";
import { benchPki, benchRun, loadAverage, machineText, probeThrough, setupFailed } from "./setup.js";

/**
 * Idempotency and traffic limits: what the two message-level rules cost the edge per request.
 *
 * In child processes (bench/roles.ts's protocol): the backend, and edges (one worker each, no `directory` and no
 * `authorizationServer` section) whose one route is the OFB payment initiation, `POST
 * /open-banking/payments/v4/pix/payments`, with: no rule (the reference: neither section configured), idempotency
 * only, the traffic limits only, both (memory stores: the embedded default's), and both with their state in a
 * private `redis-server` (what replicas share). Every request carries its own `x-idempotency-key` (autocannon's id
 * replacement), so every one is a first request — the claim, the forward and the stored response: the rule's whole
 * cost, not a replay's shortcut — and the limits count every request (limits far above the load: nothing is
 * refused). Each edge is verified first: 200 with the backend's body and the backend receiving the probe; with
 * idempotency, a repeat of the probe's key is answered without reaching the backend and a request without a key is
 * refused with 400. Then keep-alive load with participant-a's certificate, the edges in turn (Prouhet–Thue–Morse
 * order), a freshly started edge per run, best of each and the mean.
 *
 * Target (issue 16): the three rules together within the raw crypto cost + 30 µs of server CPU per request; these
 * two have no crypto, so both together (memory stores) must add well under 30 µs. The server CPU per request is
 * the edge process's user + system time (getrusage through process.cpuUsage: the utime + stime that
 * /proc/<pid>/stat shows) over the requests it served. Redis's own CPU is not counted. A FAIL is a finding: the exit code is 1 only when the
 * setup fails. Env: `BENCH_DURATION` (10 s), `BENCH_CONNECTIONS` (50), `BENCH_ROUNDS` (5), `BENCH_WARMUP` (2 s),
 * `BENCH_EDGE_LOG=silent`, `BENCH_CPU_PROF=<dir>`.
 */

const TARGET_MICROS = 30;
const INTERACTION_ID = "7c1e4b2a-9d3f-4e6a-8b5c-0f2d1a3e5b7c";
const PAYMENTS = "/open-banking/payments/v4/pix/payments";

type Edge = "off" | "idempotency" | "limits" | "both" | "both-redis";
const EDGES = ["off", "idempotency", "limits", "both", "both-redis"] as const satisfies readonly Edge[];
const NAMES: TargetNames<Edge> = { off: "rules off", idempotency: "idempotency", limits: "limits", both: "both (memory)", "both-redis": "both (Redis)" };
const RULES: Readonly<Record<Edge, { idempotency: boolean; limits: boolean; redis: boolean }>> = {
  off: { idempotency: false, limits: false, redis: false },
  idempotency: { idempotency: true, limits: false, redis: false },
  limits: { idempotency: false, limits: true, redis: false },
  both: { idempotency: true, limits: true, redis: false },
  "both-redis": { idempotency: true, limits: true, redis: true },
};

/** A payment initiation as a TPP sends it (a JWS body; the edge's idempotency reads its payload). */
function paymentBody(): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const claims = { aud: `https://bank.example${PAYMENTS}`, iss: "bench", iat: 1_700_000_000, jti: "bench", data: { payment: { amount: "100.00", currency: "BRL" }, creditorAccount: { ispb: "12345678", number: "1234567890" } } };
  return `${part({ alg: "PS256", kid: "bench", typ: "JWT" })}.${part(claims)}.${Buffer.alloc(256, 7).toString("base64url")}`;
}

/** Each edge answers the backend's body; with idempotency, a repeat is not forwarded and a request without a key is refused. */
async function verify(servers: Readonly<Record<Edge, Child>>, backend: Child, profile: LoadProfile, fixedKey: LoadProfile, noKey: LoadProfile): Promise<string[]> {
  const failures: string[] = [];
  for (const edge of EDGES) {
    const name = NAMES[edge];
    const first = await probeThrough(servers[edge], backend, fixedKey);
    if (first.res.status !== 200 || first.res.body !== BACKEND_BODY) failures.push(`${name}: answered ${first.res.status} ${first.res.body.slice(0, 200)}`);
    if (first.res.interactionId !== INTERACTION_ID) failures.push(`${name}: did not echo x-fapi-interaction-id`);
    if (first.seen.requests !== 1) failures.push(`${name}: the backend saw ${first.seen.requests} request(s) for 1 probe`);
    const repeat = await probeThrough(servers[edge], backend, fixedKey);
    const expected = RULES[edge].idempotency ? 0 : 1;
    if (repeat.res.status !== 200 || repeat.res.body !== BACKEND_BODY || repeat.seen.requests !== expected) failures.push(`${name}: a repeat answered ${repeat.res.status}, the backend saw it ${repeat.seen.requests} time(s) (expected ${expected})`);
    const fresh = await probeThrough(servers[edge], backend, profile);
    if (fresh.res.status !== 200 || fresh.seen.requests !== 1) failures.push(`${name}: a request with a fresh key answered ${fresh.res.status}, the backend saw ${fresh.seen.requests}`);
    const without = await probeThrough(servers[edge], backend, noKey);
    const refused = RULES[edge].idempotency ? 400 : 200;
    if (without.res.status !== refused) failures.push(`${name}: a request without x-idempotency-key answered ${without.res.status} (expected ${refused})`);
  }
  return failures;
}

async function main(script: string): Promise<number> {
  const { seconds, connections, warmup, rounds, logLevel, profDir } = await loadOptions(5);
  const began = performance.now();
  const run = await benchRun(script, "idempotency-");
  let redis: BenchRedis | undefined;
  try {
    process.stdout.write(`generating test PKI in ${run.dir} ... `);
    const { profile: base, spec: spec0 } = await benchPki(run.dir, INTERACTION_ID, logLevel);
    process.stdout.write("done\n");
    console.log(machineText());
    redis = await startBenchRedis();
    const request = (headers: Record<string, string>) => ({ method: "POST" as const, path: PAYMENTS, body: paymentBody(), headers: { "content-type": "application/jwt", ...headers } });
    const profile: LoadProfile = { ...base, request: request({ "x-idempotency-key": "bench-[<id>]" }) };
    const fixedKey: LoadProfile = { ...base, request: request({ "x-idempotency-key": `bench-probe-${process.pid}` }) };
    const noKey: LoadProfile = { ...base, request: request({}) };

    const backend = await run.spawn("backend", spec0);
    const startEdge = (edge: Edge) => {
      const spec: RulesEdgeSpec = { ...spec0, upstream: `http://127.0.0.1:${backend.port}`, idempotency: RULES[edge].idempotency, limits: RULES[edge].limits, ...(RULES[edge].redis ? { redis: redis!.url } : {}) };
      return run.spawn("rules-edge", spec);
    };
    const servers = {} as Record<Edge, Child>;
    for (const edge of EDGES) servers[edge] = await startEdge(edge);
    if (setupFailed(await verify(servers, backend, profile, fixedKey, noKey))) return 1;

    console.log(`\n== edge throughput: one worker, POST ${PAYMENTS} (application/jwt, ${profile.request!.body.length} bytes), a new x-idempotency-key per request ==`);
    console.log("verified: each edge answers 200 with the backend's body; with idempotency a repeat is not forwarded and a request without a key gets 400");
    console.log(`limits: payments per organisation 1,000,000/s and 60,000,000/min, route ceiling ${(10_000_000).toLocaleString("en")}/s (every request counted, none refused); Redis: a private redis-server on 127.0.0.1`);
    console.log(`keep-alive, ${connections} connections, ${seconds} s per run, ${warmup} s warm-up, ${rounds} round(s) in Prouhet–Thue–Morse order, a freshly started edge for every run${logLevel === "silent" ? "; EDGE LOGGING OFF (diagnostic run)" : ""}`);
    const runs: Run<Edge>[] = await rotatedRounds(EDGES, servers, backend, profile, NAMES, rounds, { connections, seconds, warmup, profDir, fresh: (edge) => startEdge(edge as Edge) });
    const table = compareTable("keep-alive", runs.map((r) => r.m), EDGES, 0, `\nbest of ${rounds} round(s):`, NAMES);
    console.log(table.text);

    const cpu = (m: Measurement<Edge>) => m.server.cpuMicros / m.server.requests;
    const meanCpu = (edge: Edge) => {
      const of = runs.filter((r) => r.m.target === edge).map((r) => cpu(r.m));
      return of.reduce((s, x) => s + x, 0) / of.length;
    };
    const reference = meanCpu("off");
    console.log(`\nsummary (server CPU per request, mean of the runs; rules off: ${reference.toFixed(1)} µs/req):`);
    for (const edge of EDGES.slice(1)) {
      const added = meanCpu(edge) - reference;
      console.log(`  ${NAMES[edge].padEnd(14)} ${meanCpu(edge).toFixed(1)} µs/req, adds ${added >= 0 ? "+" : ""}${added.toFixed(1)} µs; throughput / rules off: best ${(table.comparisons.find((c) => c.target === edge)!.ratio).toFixed(3)}, mean ${meanRatio(runs, edge, "off").toFixed(3)}`);
    }
    const own = await measureRuleCosts(PAYMENTS, Buffer.from(profile.request!.body));
    console.log(`  the rules' own work in-process (no HTTP; CPU time, best of 3 × 20,000): idempotency ${own.idempotencyMicros.toFixed(1)} µs (fingerprint, claim, capture, store), limits ${own.limitsMicros.toFixed(1)} µs (three counters)`);
    const both = meanCpu("both") - reference;
    console.log(`  both rules (memory stores) add ${both.toFixed(1)} µs/req (target: well within ${TARGET_MICROS} µs): ${both <= TARGET_MICROS ? "PASS" : "FAIL"}`);
    console.log(`  load average at the end ${loadAverage()}; total ${((performance.now() - began) / 1000).toFixed(0)} s`);
    if (profDir) console.log(`\nCPU profiles are in ${profDir}; summarise one with: node ${join(dirname(script), "profile-summary.js")} <file.cpuprofile>`);
    return 0;
  } finally {
    await run.close();
    await redis?.stop();
  }
}

await benchMain(import.meta.url, main, { names: RULES_ROLES, run: (role, spec) => runRulesRole(role as RulesRole, spec as RulesEdgeSpec) });
