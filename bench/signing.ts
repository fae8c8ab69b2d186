import "reflect-metadata";
import autocannon, { type Result } from "autocannon";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { request } from "node:https";
import { compactVerify, CompactSign, importJWK, importPKCS8, type JWK } from "jose";
import { startMockDirectory } from "../src/directory/mock.js";
import type { TestPkiManifest } from "../src/pki/test-pki/index.js";
import { cpus } from "./cpus.js";
import { envNumber, loadOptions } from "./env.js";
import { micros } from "./latency.js";
import type { Child, LoadProfile } from "./load.js";
import { benchMain } from "./roles.js";
import { diffStats } from "./rounds.js";
import { benchPki, benchRun, guardRun, loadAverage, machineText, setupFailed } from "./setup.js";
import { runSigningRole, SIGNING_PUBLIC_BASE, SIGNING_ROLES, type SigningEdgeSpec, type SigningRole } from "./signing-roles.js";

/**
 * Signed payment messages (issue 16 §1): what verifying a request's JWS and signing the response costs the edge.
 *
 * In child processes (bench/roles.ts's protocol): the backend (JSON), and edges with the same `messageSigning`
 * section (the bank's key, PS256, the memory jti store) and the same Directory (the mock Directory in this process,
 * serving the callers' application keys) whose one route differs only in `messageSigning: verify-and-sign | off`
 * (bench/signing-roles.ts). Both are verified first: the on edge answers a fresh signed message with a JWS of the
 * backend's JSON that the bank's published key verifies, refuses the same message again (403) and a tampered one
 * (400) without forwarding them; the off edge forwards all three and relays the backend's JSON. Then keep-alive
 * load, POSTs of `/open-banking/payments/v4/consents`, each carrying a distinct message from a pool signed before
 * the runs (participant-a's key: a `jti` is accepted once), on a freshly started edge per run (its jti store
 * empty), `BENCH_ROUNDS` rounds in ABBA order; the server's CPU per request from its `process.cpuUsage()` (what
 * /proc/<pid>/stat counts).
 *
 * In this process, afterwards: the raw cost of the crypto the rule needs per request, jose `compactVerify`
 * (PS256, participant-a's public key) plus `CompactSign` (PS256, the bank's private key) of a message of the
 * same size, one at a time, CPU µs each. The issue's target for the three message rules together is "raw crypto
 * cost + 30 µs" per request; this prints the signing rule's share: (on − off) CPU µs/req − raw µs.
 *
 * Env: `BENCH_DURATION` (5 s), `BENCH_CONNECTIONS` (20), `BENCH_WARMUP` (1 s), `BENCH_ROUNDS` (2),
 * `BENCH_MESSAGES` (pool size; default enough for a run at 1,500 req/s; the off edge reuses them, it does not look),
 * `BENCH_CRYPTO` (2000 raw iterations), `BENCH_EDGE_LOG=silent`, `BENCH_CPU_PROF=<dir>` (a profile of each measured run).
 */

const INTERACTION_ID = "3f9c2d1e-8a7b-4c6d-9e5f-1a2b3c4d5e6f";
const PATH = "/open-banking/payments/v4/consents";
const PAYLOAD = { data: { loggedUser: { document: { identification: "11111111111", rel: "CPF" } }, creditor: { personType: "PESSOA_NATURAL", cpfCnpj: "22222222222", name: "Marco Antonio de Brito" }, payment: { type: "PIX", date: "2026-01-01", currency: "BRL", amount: "100.00" } } };
type Mode = SigningEdgeSpec["messageSigning"];
const NAMES: Readonly<Record<Mode, string>> = { "verify-and-sign": "signing on", off: "signing off" };

interface Measured {
  readonly mode: Mode;
  readonly round: number;
  readonly result: Result;
  readonly requests: number;
  readonly cpuMicros: number;
  readonly backendRequests: number;
}

/** One keep-alive autocannon run: POSTs of `PATH`, each with the next message of the pool. */
function load(port: number, profile: LoadProfile, next: () => string, o: { connections: number; seconds: number }): Promise<Result> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `https://127.0.0.1:${port}${PATH}`,
        connections: o.connections,
        duration: o.seconds,
        headers: { accept: "application/json", "content-type": "application/jwt", "x-fapi-interaction-id": profile.interactionId },
        tlsOptions: { cert: profile.cert, key: profile.key, ca: profile.ca, servername: "localhost" },
        requests: [{ method: "POST", path: PATH, setupRequest: (req) => ({ ...req, method: "POST", body: next() }) }],
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
}

/** One POST on a new connection. */
function post(port: number, profile: LoadProfile, body: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path: PATH, method: "POST", servername: "localhost", cert: profile.cert, key: profile.key, ca: profile.ca, agent: false, headers: { "content-type": "application/jwt", "x-fapi-interaction-id": profile.interactionId } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"] ?? ""), body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** Both edges before any load: what each answers to a fresh, a replayed and a tampered message, and what reached the backend. */
async function verify(on: Child, off: Child, backend: Child, profile: LoadProfile, sign: () => Promise<string>, bankKey: JWK): Promise<string[]> {
  const failures: string[] = [];
  const before = await backend.stats();
  const fresh = await sign();
  const first = await post(on.port, profile, fresh);
  if (first.status !== 200 || !first.type.startsWith("application/jwt")) failures.push(`signing on: a fresh message got ${first.status} ${first.type}: ${first.body.slice(0, 200)}`);
  else {
    const { payload } = await compactVerify(first.body, await importJWK(bankKey, "PS256"));
    const claims = JSON.parse(Buffer.from(payload).toString("utf8")) as { data?: unknown };
    if (!claims.data) failures.push("signing on: the signed response does not carry the backend's JSON");
  }
  if ((await post(on.port, profile, fresh)).status !== 403) failures.push("signing on: the same message again was not refused with 403");
  const [h, p, s] = (await sign()).split(".");
  if ((await post(on.port, profile, `${h}.${p}.${s!.slice(0, -4)}AAAA`)).status !== 400) failures.push("signing on: a tampered signature was not refused with 400");
  const afterOn = await backend.stats();
  if (afterOn.requests - before.requests !== 1) failures.push(`signing on: the backend saw ${afterOn.requests - before.requests} request(s) for 1 accepted message`);
  const relayed = await post(off.port, profile, fresh);
  if (relayed.status !== 200 || !relayed.type.startsWith("application/json")) failures.push(`signing off: got ${relayed.status} ${relayed.type}`);
  return failures;
}

/** The raw PS256 work one request needs: verify the caller's message, sign the response; CPU µs each, one at a time. */
async function rawCrypto(pki: TestPkiManifest, message: string, response: string, iterations: number, concurrency: number) {
  const participant = pki.signingKeys["participant-a"]!;
  const bank = pki.signingKeys.bank!;
  const publicJwk = (JSON.parse(await readFile(join(pki.directory.keystore, participant.organisationId, "application.jwks"), "utf8")) as { keys: JWK[] }).keys.find((k) => k.kid === participant.kid)!;
  const verifyKey = await importJWK(publicJwk, "PS256");
  const signKey = await importPKCS8(await readFile(bank.key, "utf8"), "PS256");
  const bytes = new TextEncoder().encode(response);
  /** CPU µs per call of `fn`, `inFlight` calls at a time (1: one after the other). */
  const cpu = async (fn: () => Promise<unknown>, inFlight = 1) => {
    for (let i = 0; i < 50; i++) await fn();
    const start = process.cpuUsage();
    let next = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next++ < iterations) await fn();
      }),
    );
    const used = process.cpuUsage(start);
    return (used.user + used.system) / iterations;
  };
  const verifyOnce = () => compactVerify(message, verifyKey, { algorithms: ["PS256"] });
  const signOnce = () => new CompactSign(bytes).setProtectedHeader({ alg: "PS256", kid: bank.kid, typ: "JWT" }).sign(signKey);
  const verify = await cpu(verifyOnce);
  const sign = await cpu(signOnce);
  // As the edge does them under load: many requests' crypto in flight at once (WebCrypto jobs on the thread pool).
  const both = await cpu(async () => {
    await verifyOnce();
    await signOnce();
  }, concurrency);
  return { verify, sign, concurrent: both };
}

async function main(script: string): Promise<number> {
  const { rounds, logLevel, profDir } = await loadOptions(2);
  const runSeconds = envNumber("BENCH_DURATION", 5);
  const warmSeconds = envNumber("BENCH_WARMUP", 1);
  const conns = Math.round(envNumber("BENCH_CONNECTIONS", 20));
  const poolSize = Math.round(envNumber("BENCH_MESSAGES", Math.ceil((runSeconds + warmSeconds) * 1_500)));
  const iterations = Math.round(envNumber("BENCH_CRYPTO", 2_000));
  const began = performance.now();
  const run = await benchRun(script, "signing-");
  const guard = guardRun(run);
  try {
    process.stdout.write(`generating test PKI in ${run.dir} ... `);
    const { pki, profile, spec: spec0 } = await benchPki(run.dir, INTERACTION_ID, logLevel);
    const directory = await startMockDirectory({ fixtureDir: join(run.dir, "pki", "directory") });
    guard.add({ stop: () => directory.close() });
    process.stdout.write("done\n");
    const { testMessageSigner } = await import("../src/pki/test-pki/index.js");
    const signer = await testMessageSigner(pki, "participant-a");
    const sign = () => signer.sign({ aud: `${SIGNING_PUBLIC_BASE}${PATH}`, payload: PAYLOAD });
    const bank = pki.signingKeys.bank!;
    const bankKey = (JSON.parse(await readFile(join(pki.directory.keystore, pki.bank.organisationId, "application.jwks"), "utf8")) as { keys: JWK[] }).keys.find((k) => k.kid === bank.kid)!;
    console.log(machineText());

    const backend = await run.spawn("backend", spec0);
    const edgeSpec = (mode: Mode): SigningEdgeSpec => ({
      ...spec0,
      upstream: `http://127.0.0.1:${backend.port}`,
      participantsUrl: directory.participantsUrl,
      keystoreUrl: directory.keystoreUrl,
      bank: { keyFile: bank.key, kid: bank.kid, organisationId: pki.bank.organisationId },
      messageSigning: mode,
    });
    const start = (mode: Mode) => run.spawn("signing-edge", edgeSpec(mode));
    const [on, off] = [await start("verify-and-sign"), await start("off")];
    if (setupFailed(await verify(on, off, backend, profile, sign, bankKey))) return 1;
    await Promise.all([on.stop(), off.stop()]);

    process.stdout.write(`signing ${poolSize} messages (participant-a, PS256) for the load ... `);
    const t0 = performance.now();
    const pool: string[] = [];
    for (let i = 0; i < poolSize; i++) pool.push(await sign());
    process.stdout.write(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s (${Buffer.byteLength(pool[0]!)} bytes each)\n`);

    console.log(`\n== edge throughput: one worker, POST ${PATH}, messageSigning verify-and-sign vs off ==`);
    console.log("verified: signing on answers a fresh message with a JWS of the backend's JSON that the bank's published key verifies, refuses the same message (403) and a");
    console.log("  tampered one (400), forwarding only the first; signing off relays the backend's JSON");
    console.log(`keep-alive, ${conns} connections, ${runSeconds} s per run, ${warmSeconds} s warm-up, ${rounds} round(s) in ABBA order, a freshly started edge per run (empty jti store), a distinct message per request${logLevel === "silent" ? "; EDGE LOGGING OFF" : ""}`);
    const runs: Measured[] = [];
    for (let round = 0; round < rounds; round++) {
      const order: Mode[] = round % 2 === 0 ? ["verify-and-sign", "off"] : ["off", "verify-and-sign"];
      for (const mode of order) {
        const child = await start(mode);
        let i = 0;
        const next = () => pool[i++ % pool.length]!;
        await load(child.port, profile, next, { connections: conns, seconds: warmSeconds });
        if (profDir) await child.profileStart();
        const [s0, b0] = [await child.stats(), await backend.stats()];
        const result = await load(child.port, profile, next, { connections: conns, seconds: runSeconds });
        if (profDir) await child.profileStop(join(profDir, `${mode}-round${round + 1}.cpuprofile`));
        const [s, b] = [diffStats(s0, await child.stats()), diffStats(b0, await backend.stats())];
        await child.stop();
        if (mode !== "off" && i > pool.length) console.log(`  WARNING: ${NAMES[mode]} round ${round + 1}: ${i} requests for a pool of ${pool.length}: messages were reused (raise BENCH_MESSAGES)`);
        runs.push({ mode, round, result, requests: s.requests, cpuMicros: s.cpuMicros, backendRequests: b.requests });
      }
    }
    const rps = (m: Measured) => m.result["2xx"] / m.result.duration;
    const perReq = (m: Measured) => m.cpuMicros / Math.max(1, m.requests);
    console.log(`\n${"".padEnd(14)}${"round".padStart(6)}${"req/s".padStart(10)}${"p50 ms".padStart(9)}${"p99 ms".padStart(9)}${"non-2xx".padStart(9)}${"errors".padStart(8)}${"µs CPU/req".padStart(12)}`);
    for (const m of runs) {
      console.log(`${NAMES[m.mode].padEnd(14)}${String(m.round + 1).padStart(6)}${rps(m).toFixed(0).padStart(10)}${m.result.latency.p50.toFixed(1).padStart(9)}${m.result.latency.p99.toFixed(1).padStart(9)}${String(m.result.non2xx).padStart(9)}${String(m.result.errors + m.result.timeouts).padStart(8)}${micros(perReq(m)).padStart(12)}`);
      if (m.result.non2xx + m.result.errors + m.result.timeouts > 0) console.log(`  !!! ${NAMES[m.mode]} round ${m.round + 1}: ${m.result.non2xx} non-2xx, ${m.result.errors} errors, ${m.result.timeouts} timeouts: not a measurement`);
    }
    const mean = (mode: Mode, f: (m: Measured) => number) => {
      const xs = runs.filter((m) => m.mode === mode).map(f);
      return xs.reduce((a, x) => a + x, 0) / xs.length;
    };
    const cpuOn = mean("verify-and-sign", perReq);
    const cpuOff = mean("off", perReq);
    const added = cpuOn - cpuOff;

    const sample = pool[0]!;
    const raw = await rawCrypto(pki, sample, JSON.stringify({ ...JSON.parse(Buffer.from(sample.split(".")[1]!, "base64url").toString("utf8")), links: { self: "x" } }), iterations, conns);
    const rawTotal = raw.verify + raw.sign;
    console.log(`\nraw jose, ${iterations} iterations, CPU µs: compactVerify PS256 ${micros(raw.verify)}, CompactSign PS256 ${micros(raw.sign)}, together ${micros(rawTotal)} one at a time; verify + sign with ${conns} in flight ${micros(raw.concurrent)}`);
    console.log("\nsummary:");
    console.log(`  throughput signing on / off (mean of rounds): ${(mean("verify-and-sign", rps) / mean("off", rps)).toFixed(3)} (${mean("verify-and-sign", rps).toFixed(0)} vs ${mean("off", rps).toFixed(0)} req/s)`);
    console.log(`  server CPU per request: on ${micros(cpuOn)} µs, off ${micros(cpuOff)} µs: the rule adds ${micros(added)} µs/req`);
    console.log(`  raw PS256 verify + sign: ${micros(rawTotal)} µs one at a time, ${micros(raw.concurrent)} µs with ${conns} in flight; the rule's overhead beyond them: ${micros(added - rawTotal)} / ${micros(added - raw.concurrent)} µs/req (issue target for all three rules: raw crypto + 30 µs)`);
    console.log(`  load average at the end ${loadAverage()} (${cpus} cores); total ${((performance.now() - began) / 1000).toFixed(0)} s`);
    return 0;
  } finally {
    await guard.close();
  }
}

await benchMain(import.meta.url, main, { names: SIGNING_ROLES, run: (role, spec) => runSigningRole(role as SigningRole, spec as SigningEdgeSpec) });
