import "reflect-metadata";
import { dirname, join } from "node:path";
import { startAuthorizationServerStub, type AuthorizationServerStub } from "../src/dev/authorization-server.js";
import { cpus } from "./cpus.js";
import { issueTokens, measureVerification, TOKEN_CLAIMS, verificationText } from "./binding-measure.js";
import { BINDING_ROLES, runBindingRole, type BindingEdgeSpec, type BindingRole } from "./binding-roles.js";
import { envNumber, loadOptions } from "./env.js";
import { micros } from "./latency.js";
import type { Child, LoadProfile } from "./load.js";
import { modeTable, type Target, type TargetNames } from "./report.js";
import { keepAliveRounds, meanRatio, type Run } from "./rounds.js";
import { BACKEND_BODY, benchMain } from "./roles.js";
import { benchPki, benchRun, loadAverage, machineText, probeThrough, setupFailed } from "./setup.js";

/**
 * Certificate-bound access tokens (RFC 8705, issue 4): what the token stage costs the edge.
 *
 * In child processes (bench/roles.ts's protocol): the backend, and two edges with the same
 * `authorizationServer` section (the stub's issuer, default settings) whose one route differs only in
 * `binding: enforce | off` (bench/binding-roles.ts). The authorization-server stub runs in this process: it
 * issues the tokens, and serves discovery and the JWK Set once to the enforce edge, before any load. Both edges
 * are verified first: 200 with the backend's body for a token bound to participant-a's certificate, the enforce
 * edge forwarding the token's client_id (`x-ofb-client-id`) and the off edge not; without `Authorization` the
 * enforce edge answers 401 and the off edge 200; a token bound to another certificate gets 401 from the enforce
 * edge; the second request with the same token is a cache hit. Then keep-alive load, every request with that
 * one token (so the enforce edge serves it from its token cache), ABBA BAAB rounds, best of each, and the
 * ratio enforce/off.
 *
 * In this process, afterwards (bench/binding-measure.ts): the cost of one uncached PS256 verification, jose
 * `jwtVerify` alone and through the edge's `createTokenVerifier` (distinct tokens vs one token repeated).
 *
 * Target (the issue): throughput with binding enforce (tokens cached) ≥ 0.95× off. A FAIL is a finding: the
 * exit code is 1 only when the setup fails. Env: `BENCH_DURATION` (10 s), `BENCH_CONNECTIONS` (50),
 * `BENCH_ROUNDS` (4), `BENCH_WARMUP` (2 s), `BENCH_TOKENS` (2000, distinct tokens per verification series),
 * `BENCH_EDGE_LOG=silent`, `BENCH_CPU_PROF=<dir>` (a profile of each edge's measured runs).
 */

const TARGET_RATIO = 0.95;
const INTERACTION_ID = "3f9c2d1e-8a7b-4c6d-9e5f-1a2b3c4d5e6f";
const NAMES: TargetNames = { baseline: "binding off", edge: "binding enforce" };
const WARM_TOKENS = 200;

/** What one probe must get: the status, and whether the backend sees the token's client_id. */
interface Expect {
  readonly status: 200 | 401;
  readonly clientId: boolean;
}

async function check(name: string, child: Child, backend: Child, profile: LoadProfile, expect: Expect): Promise<string[]> {
  const failures: string[] = [];
  const { res, seen } = await probeThrough(child, backend, profile);
  if (res.status !== expect.status) failures.push(`${name}: answered ${res.status}, expected ${expect.status}: ${res.body.slice(0, 300)}`);
  else if (expect.status === 200 && res.body !== BACKEND_BODY) failures.push(`${name}: answered 200 but not with the backend's body`);
  if (res.interactionId !== INTERACTION_ID) failures.push(`${name}: did not echo x-fapi-interaction-id`);
  const forwarded = expect.status === 200 ? 1 : 0;
  if (seen.requests !== forwarded || seen.clientCertRequests !== forwarded) failures.push(`${name}: the backend saw ${seen.requests} request(s), ${seen.clientCertRequests} with Client-Cert (expected ${forwarded})`);
  const clientIds = seen.ofbClientIdRequests ?? 0;
  if (clientIds !== (expect.clientId ? 1 : 0)) failures.push(`${name}: x-ofb-client-id forwarded on ${clientIds} request(s) (expected ${expect.clientId ? 1 : 0})`);
  return failures;
}

/**
 * Both edges serve a bound token; only the enforce edge checks it: it refuses a request without a token and a
 * token bound to another certificate, forwards the token's client_id, verifies each token once and then
 * answers from its cache. The off edge never verifies anything.
 */
async function verify(servers: Readonly<Record<Target, Child>>, backend: Child, profiles: { bound: LoadProfile; none: LoadProfile; other: LoadProfile }): Promise<string[]> {
  const { edge: enforce, baseline: off } = servers;
  const failures = [
    ...(await check("binding enforce, bound token", enforce, backend, profiles.bound, { status: 200, clientId: true })),
    ...(await check("binding enforce, the same token again", enforce, backend, profiles.bound, { status: 200, clientId: true })),
    ...(await check("binding enforce, no Authorization", enforce, backend, profiles.none, { status: 401, clientId: false })),
    ...(await check("binding enforce, token bound to participant-b's certificate", enforce, backend, profiles.other, { status: 401, clientId: false })),
    ...(await check("binding off, bound token", off, backend, profiles.bound, { status: 200, clientId: false })),
    ...(await check("binding off, no Authorization", off, backend, profiles.none, { status: 200, clientId: false })),
  ];
  const tokens = async (child: Child) => {
    const s = await child.stats();
    return { verifications: s.tokenVerifications, hits: s.tokenHits };
  };
  const [e, o] = [await tokens(enforce), await tokens(off)];
  if (e.verifications !== 2 || e.hits !== 1) failures.push(`binding enforce: the token verifier did ${e.verifications} verification(s) and ${e.hits} cache hit(s) for 3 tokens, 2 distinct (expected 2 and 1)`);
  if (o.verifications !== 0 || o.hits !== 0) failures.push(`binding off: the token verifier did ${o.verifications} verification(s) and ${o.hits} cache hit(s) (expected none)`);
  return failures;
}

/** Per-run checks: the enforce edge answered every request from its cache and forwarded the client_id. */
function runChecks(runs: readonly Run[]): string[] {
  const lines: string[] = [];
  for (const { m } of runs) {
    const name = `${NAMES[m.target]} round ${m.round + 1}`;
    const enforce = m.target === "edge";
    const expectedIds = enforce ? m.backend.requests : 0;
    if ((m.backend.ofbClientIdRequests ?? 0) !== expectedIds) lines.push(`  WARNING: ${name}: x-ofb-client-id on ${m.backend.ofbClientIdRequests} of ${m.backend.requests} backend requests (expected ${expectedIds})`);
    const verifications = m.server.tokenVerifications ?? 0;
    const hits = m.server.tokenHits ?? 0;
    if (verifications !== 0 || hits !== (enforce ? m.server.requests : 0))
      lines.push(`  WARNING: ${name}: ${verifications} token verification(s), ${hits} cache hit(s) for ${m.server.requests} requests (expected 0 and ${enforce ? m.server.requests : 0})`);
  }
  const on = runs.filter((r) => r.m.target === "edge");
  const sum = (f: (r: Run) => number) => on.reduce((s, r) => s + f(r), 0);
  lines.push(
    `  binding enforce runs: ${sum((r) => r.m.server.tokenHits ?? 0)} token cache hits and ${sum((r) => r.m.server.tokenVerifications ?? 0)} verifications for ${sum((r) => r.m.server.requests)} requests; x-ofb-client-id on ${sum((r) => r.m.backend.ofbClientIdRequests ?? 0)} of ${sum((r) => r.m.backend.requests)} backend requests`,
  );
  return lines;
}

async function main(script: string): Promise<number> {
  const tokenCount = Math.round(envNumber("BENCH_TOKENS", 2000));
  // Four rounds (ABBA BAAB), as bench/directory.ts: a 5 % target needs more than two samples per edge.
  const { seconds, connections, warmup, rounds, logLevel, profDir } = await loadOptions(4);
  const began = performance.now();

  const run = await benchRun(script, "binding-");
  let stub: AuthorizationServerStub | undefined;
  try {
    process.stdout.write(`generating test PKI in ${run.dir}, starting the authorization-server stub ... `);
    const { pki, client: a, profile: none, spec: spec0 } = await benchPki(run.dir, INTERACTION_ID, logLevel);
    const b = pki.clients["participant-b"];
    if (!b) throw new Error("test PKI has no participant-b");
    stub = await startAuthorizationServerStub({ host: "127.0.0.1", port: 0 });
    const [token] = await issueTokens(stub, a.thumbprint, 1);
    const otherToken = await stub.issueJwt({ thumbprint: b.thumbprint, claims: { ...TOKEN_CLAIMS }, lifetimeSeconds: 3600 });
    const profiles = { none, bound: { ...none, authorization: `Bearer ${token!}` }, other: { ...none, authorization: `Bearer ${otherToken}` } };
    process.stdout.write("done\n");
    console.log(`authorization server: ${stub.issuer} (PS256); load token: ${Buffer.byteLength(token!)} bytes, bound to participant-a (cnf x5t#S256 ${a.thumbprint}), valid 1 h`);
    console.log(machineText());

    const backend = await run.spawn("backend", spec0);
    const edgeSpec = (binding: BindingEdgeSpec["binding"]): BindingEdgeSpec => ({ ...spec0, upstream: `http://127.0.0.1:${backend.port}`, issuer: stub!.issuer, binding });
    const startEdge = (binding: BindingEdgeSpec["binding"]) => run.spawn("binding-edge", edgeSpec(binding));
    const servers: Record<Target, Child> = { baseline: await startEdge("off"), edge: await startEdge("enforce") };

    const failures = await verify(servers, backend, profiles);
    if (setupFailed(failures)) return 1;
    const served = { ...stub.counts };
    console.log(`\n== 1. edge throughput: one worker, route /open-banking/ with binding enforce vs off ==`);
    console.log("verified: with the bound token both answer 200 with the backend's body and echo the interaction id; enforce forwards x-ofb-client-id, off does not;");
    console.log("  without Authorization enforce answers 401, off 200; a token bound to participant-b's certificate gets 401 from enforce; enforce verified each token once, then hit its cache");
    console.log(`  the authorization server served discovery ${served.discovery}×, the JWK Set ${served.jwks}× (to the enforce edge, on its first token)`);
    console.log(`keep-alive, ${connections} connections, ${seconds} s per run, ${warmup} s warm-up, ${rounds} round(s) in ABBA BAAB order, best round shown, ${process.env.BENCH_REUSE === "1" ? "the same two edges throughout" : "a freshly started edge for every run"}; every request carries the same bound token${logLevel === "silent" ? "; EDGE LOGGING OFF (diagnostic run)" : ""}`);

    // Every run on a freshly started edge (BENCH_REUSE=1: the two verified edges throughout).
    const fresh = process.env.BENCH_REUSE === "1" ? undefined : (target: string) => startEdge(target === "edge" ? "enforce" : "off");
    const runs = await keepAliveRounds(servers, backend, profiles.bound, NAMES, rounds, { connections, seconds, warmup, profDir, ...(fresh ? { fresh } : {}) });
    const table = modeTable("keep-alive", runs.map((r) => r.m), TARGET_RATIO, `\nbest of ${rounds} round(s):`, NAMES);
    console.log(table.text);
    console.log(`  mean of the runs (drift-cancelled): binding enforce / off ${meanRatio(runs, "edge", "baseline").toFixed(3)}`);
    for (const line of runChecks(runs)) console.log(line);
    const during = { discovery: stub.counts.discovery - served.discovery, jwks: stub.counts.jwks - served.jwks };
    console.log(`  authorization server requests during the runs: ${during.discovery + during.jwks}${fresh ? " (discovery and the JWK Set, once per fresh enforce edge, in its warm-up)" : ""}`);

    process.stdout.write(`\nissuing ${tokenCount + WARM_TOKENS} tokens for the verification series ... `);
    const tokens = await issueTokens(stub, a.thumbprint, tokenCount + WARM_TOKENS);
    process.stdout.write("done\n");
    const figures = await measureVerification(stub, a.thumbprint, tokens.slice(WARM_TOKENS), tokens.slice(0, WARM_TOKENS));
    console.log(verificationText(figures, 2));

    const rate = (v: number) => Math.round(v).toLocaleString("en-US");
    console.log("\nsummary:");
    console.log(`  throughput binding enforce / off (tokens cached): ${table.ratio.toFixed(3)} (target >= ${TARGET_RATIO}): ${table.pass ? "PASS" : "FAIL"}`);
    console.log(`  uncached PS256 verification: jose jwtVerify p50 ${micros(figures.jose.p50)} µs (${rate(figures.jose.opsPerSecond)} ops/s one at a time, ${rate(figures.joseConcurrent.opsPerSecond)} ops/s with ${figures.joseConcurrent.concurrency} in flight)`);
    console.log(`  edge verifier: uncached p50 ${micros(figures.uncached.p50)} µs (${rate(figures.uncached.opsPerSecond)} ops/s), cached p50 ${micros(figures.cached.p50)} µs (${rate(figures.cached.opsPerSecond)} ops/s)`);
    console.log(`  load average at the end ${loadAverage()} (${cpus} cores); total ${((performance.now() - began) / 1000).toFixed(0)} s`);
    if (profDir) console.log(`\nCPU profiles are in ${profDir}; summarise one with: node ${join(dirname(script), "profile-summary.js")} <file.cpuprofile>`);
    return 0;
  } finally {
    await run.close();
    await stub?.close();
  }
}

await benchMain(import.meta.url, main, { names: BINDING_ROLES, run: (role, spec) => runBindingRole(role as BindingRole, spec as BindingEdgeSpec) });
