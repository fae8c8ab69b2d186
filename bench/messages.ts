import "reflect-metadata";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { request } from "node:https";
import { compactVerify, importJWK, type JWK } from "jose";
import { startMockDirectory } from "../src/directory/mock.js";
import { cpus } from "./cpus.js";
import { envNumber, loadOptions } from "./env.js";
import type { Child, LoadProfile } from "./load.js";
import { measureRuleCosts, measureSigningRule, rawCrypto } from "./messages-measure.js";
import { MESSAGES_ROLES, runMessagesRole, SIGNING_PUBLIC_BASE, type MessagesEdgeSpec, type MessagesRole } from "./messages-roles.js";
import { startBenchRedis } from "./redis-server.js";
import { compareTable, type Measurement, type TargetNames } from "./report.js";
import { BACKEND_BODY, benchMain } from "./roles.js";
import { meanRatio, rotatedRounds, type Run } from "./rounds.js";
import { benchPki, benchRun, guardRun, loadAverage, machineText, setupFailed } from "./setup.js";

/**
 * The three message rules of issue 16 (signed messages, idempotency, traffic limits) on the signed-payment route:
 * what they cost the edge per request, together and each alone, next to the raw PS256 crypto they cannot avoid.
 *
 * In child processes (bench/roles.ts's protocol): the backend (JSON) and edges with the same sections (the
 * Directory from the mock Directory in this process, `messageSigning` with the bank's key, `idempotency`, `limits`;
 * bench/messages-roles.ts) whose one route differs only in the rules it enforces: none, each alone, all three
 * (memory stores) and all three with their state (jti, idempotency, limits) in a private `redis-server`. Each edge
 * is verified first (what it answers to a fresh, a repeated, a keyless and a tampered message, and what reaches the
 * backend). Then keep-alive POSTs of `/open-banking/payments/v4/consents`, each carrying the next message of a pool
 * signed with participant-a's key before the runs (a fresh `jti` each; the load generator does no signing during a
 * run) and a fresh `x-idempotency-key`; a freshly started edge per run, the edges in Prouhet–Thue–Morse order. The
 * server's CPU per request is its `process.cpuUsage()` (the utime + stime of /proc/<pid>/stat) over the requests
 * it served; Redis's own CPU is not counted.
 *
 * In this process, afterwards: jose `compactVerify` + `CompactSign` PS256 one at a time and with the load's
 * concurrency in flight, and the idempotency and limits rules' own work without HTTP. Target (issue 16): all three
 * rules add no more than the raw crypto + 30 µs per request. Env: `BENCH_DURATION` (5 s), `BENCH_CONNECTIONS`
 * (20), `BENCH_WARMUP` (1 s), `BENCH_ROUNDS` (2), `BENCH_MESSAGES` (pool size), `BENCH_CRYPTO` (2000),
 * `BENCH_EDGES` (a comma-separated subset), `BENCH_EDGE_LOG=silent`, `BENCH_CPU_PROF=<dir>`.
 */

const TARGET_MICROS = 30;
const INTERACTION_ID = "3f9c2d1e-8a7b-4c6d-9e5f-1a2b3c4d5e6f";
const PATH = "/open-banking/payments/v4/consents";
const PAYLOAD = { data: { loggedUser: { document: { identification: "11111111111", rel: "CPF" } }, creditor: { personType: "PESSOA_NATURAL", cpfCnpj: "22222222222", name: "Marco Antonio de Brito" }, payment: { type: "PIX", date: "2026-01-01", currency: "BRL", amount: "100.00" } } };
/** Re-sign the pool when older than this: a message's `iat` must stay within the edges' 300 s clock skew. */
const POOL_MAX_AGE_MS = 200_000;

type Edge = "off" | "signing" | "idempotency" | "limits" | "all" | "all-redis";
const EDGES = ["off", "signing", "idempotency", "limits", "all", "all-redis"] as const satisfies readonly Edge[];
const NAMES: TargetNames<Edge> = { off: "rules off", signing: "signing", idempotency: "idempotency", limits: "limits", all: "all (memory)", "all-redis": "all (Redis)" };
const RULES: Readonly<Record<Edge, { signing: boolean; idempotency: boolean; limits: boolean; redis: boolean }>> = {
  off: { signing: false, idempotency: false, limits: false, redis: false },
  signing: { signing: true, idempotency: false, limits: false, redis: false },
  idempotency: { signing: false, idempotency: true, limits: false, redis: false },
  limits: { signing: false, idempotency: false, limits: true, redis: false },
  all: { signing: true, idempotency: true, limits: true, redis: false },
  "all-redis": { signing: true, idempotency: true, limits: true, redis: true },
};

interface Answer {
  readonly status: number;
  readonly type: string;
  readonly body: string;
}

/** One POST of `PATH` on a new connection. */
function post(port: number, profile: LoadProfile, body: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path: PATH, method: "POST", servername: "localhost", cert: profile.cert, key: profile.key, ca: profile.ca, agent: false, headers: { "content-type": "application/jwt", "x-fapi-interaction-id": profile.interactionId, ...headers } },
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

/**
 * Every edge before any load: a fresh message is answered 200 (a JWS of the backend's JSON that the bank's published
 * key verifies with signing, the backend's JSON without) and forwarded once; the same message and key again is
 * refused (403, a used `jti`) with signing, answered from the store without forwarding with idempotency alone, and
 * forwarded with neither; a message without a key gets 400 with idempotency; a tampered one gets 400 with signing.
 */
async function verify(edges: Readonly<Record<Edge, Child>>, backend: Child, profile: LoadProfile, sign: () => Promise<string>, bankKey: JWK): Promise<string[]> {
  const failures: string[] = [];
  const forwarded = async (ask: () => Promise<Answer>) => {
    const before = (await backend.stats()).requests;
    const answer = await ask();
    return { answer, seen: (await backend.stats()).requests - before };
  };
  for (const edge of EDGES) {
    const rules = RULES[edge];
    const name = NAMES[edge];
    const port = edges[edge].port;
    const fresh = await sign();
    const key = { "x-idempotency-key": `probe-${edge}-${process.pid}` };
    const first = await forwarded(() => post(port, profile, fresh, key));
    if (first.answer.status !== 200 || first.seen !== 1) failures.push(`${name}: a fresh message got ${first.answer.status}, forwarded ${first.seen} time(s): ${first.answer.body.slice(0, 200)}`);
    else if (rules.signing) {
      const { payload } = await compactVerify(first.answer.body, await importJWK(bankKey, "PS256"));
      if (!(JSON.parse(Buffer.from(payload).toString("utf8")) as { data?: unknown }).data) failures.push(`${name}: the signed response does not carry the backend's JSON`);
    } else if (first.answer.body !== BACKEND_BODY) failures.push(`${name}: did not relay the backend's JSON`);
    const again = await forwarded(() => post(port, profile, fresh, key));
    const expected = rules.signing ? { status: 403, seen: 0 } : { status: 200, seen: rules.idempotency ? 0 : 1 };
    if (again.answer.status !== expected.status || again.seen !== expected.seen) failures.push(`${name}: the same message and key again got ${again.answer.status}, forwarded ${again.seen} time(s) (expected ${expected.status}, ${expected.seen})`);
    const keyless = await forwarded(async () => post(port, profile, await sign(), {}));
    if (keyless.answer.status !== (rules.idempotency ? 400 : 200) || keyless.seen !== (rules.idempotency ? 0 : 1)) failures.push(`${name}: a message without x-idempotency-key got ${keyless.answer.status}, forwarded ${keyless.seen} time(s)`);
    if (rules.signing) {
      const [h, p, s] = (await sign()).split(".");
      const tampered = await forwarded(() => post(port, profile, `${h}.${p}.${s!.slice(0, -4)}AAAA`, { "x-idempotency-key": `tampered-${edge}-${process.pid}` }));
      if (tampered.answer.status !== 400 || tampered.seen !== 0) failures.push(`${name}: a tampered signature got ${tampered.answer.status}, forwarded ${tampered.seen} time(s)`);
    }
  }
  return failures;
}

/** `BENCH_EDGES`, or every edge; rules off first when chosen (the reference of the comparisons). */
function selectedEdges(): readonly [Edge, ...Edge[]] {
  const raw = process.env.BENCH_EDGES;
  if (!raw) return EDGES;
  const picked = raw.split(",").map((s) => s.trim());
  for (const e of picked) if (!(EDGES as readonly string[]).includes(e)) throw new Error(`BENCH_EDGES: unknown edge ${JSON.stringify(e)} (one of ${EDGES.join(", ")})`);
  const [first, ...rest] = EDGES.filter((e) => picked.includes(e));
  if (!first) throw new Error("BENCH_EDGES names no edge");
  return [first, ...rest];
}

async function main(script: string): Promise<number> {
  const { rounds, logLevel, profDir } = await loadOptions(2);
  const seconds = envNumber("BENCH_DURATION", 5);
  const warmup = envNumber("BENCH_WARMUP", 1);
  const connections = Math.round(envNumber("BENCH_CONNECTIONS", 20));
  const poolSize = Math.round(envNumber("BENCH_MESSAGES", Math.ceil((seconds + warmup) * 2_000)));
  const iterations = Math.round(envNumber("BENCH_CRYPTO", 2_000));
  const targets = selectedEdges();
  const began = performance.now();
  const run = await benchRun(script, "messages-");
  const guard = guardRun(run);
  try {
    process.stdout.write(`generating test PKI in ${run.dir} ... `);
    const { pki, profile: base, spec: spec0 } = await benchPki(run.dir, INTERACTION_ID, logLevel);
    const directory = await startMockDirectory({ fixtureDir: join(run.dir, "pki", "directory") });
    guard.add({ stop: () => directory.close() });
    const redis = await startBenchRedis();
    guard.add({ stop: () => redis.stop() });
    process.stdout.write("done\n");
    console.log(machineText());
    const { testMessageSigner } = await import("../src/pki/test-pki/index.js");
    const signer = await testMessageSigner(pki, "participant-a");
    const sign = () => signer.sign({ aud: `${SIGNING_PUBLIC_BASE}${PATH}`, payload: PAYLOAD });
    const bank = pki.signingKeys.bank!;
    const bankKey = (JSON.parse(await readFile(join(pki.directory.keystore, pki.bank.organisationId, "application.jwks"), "utf8")) as { keys: JWK[] }).keys.find((k) => k.kid === bank.kid)!;

    const backend = await run.spawn("backend", spec0);
    const start = (edge: Edge) => {
      const spec: MessagesEdgeSpec = {
        ...spec0,
        upstream: `http://127.0.0.1:${backend.port}`,
        participantsUrl: directory.participantsUrl,
        keystoreUrl: directory.keystoreUrl,
        bank: { keyFile: bank.key, kid: bank.kid, organisationId: pki.bank.organisationId },
        signing: RULES[edge].signing,
        idempotency: RULES[edge].idempotency,
        limits: RULES[edge].limits,
        ...(RULES[edge].redis ? { redis: redis.url } : {}),
      };
      return run.spawn("messages-edge", spec);
    };
    const edges = {} as Record<Edge, Child>;
    for (const edge of EDGES) edges[edge] = await start(edge);
    if (setupFailed(await verify(edges, backend, base, sign, bankKey))) return 1;
    await Promise.all(EDGES.map((e) => edges[e].stop()));

    const pool: string[] = [];
    let signedAt = 0;
    const fillPool = async () => {
      process.stdout.write(`  (signing ${poolSize} messages, participant-a, PS256, outside the measured runs ... `);
      const t0 = performance.now();
      for (let i = 0; i < poolSize; i++) pool[i] = await sign();
      signedAt = performance.now();
      process.stdout.write(`${((signedAt - t0) / 1000).toFixed(1)} s) `);
    };
    await fillPool();
    let sent = 0;
    const next = () => ({ body: pool[sent % pool.length]!, headers: { "x-idempotency-key": `bench-${++sent}` } });
    const profile: LoadProfile = { ...base, request: { method: "POST", path: PATH, body: pool[0]!, headers: { "content-type": "application/jwt" }, next, anyBody: true } };

    console.log(`\n\n== edge CPU per request: one worker, POST ${PATH} (application/jwt, ${Buffer.byteLength(pool[0]!)} bytes), the three message rules on and off ==`);
    console.log("verified: signing answers with a JWS of the backend's JSON (the bank's published key verifies it) and refuses a used jti (403) and a tampered signature (400);");
    console.log("  idempotency answers a repeated key from its store and refuses a request without a key (400); nothing refused reached the backend");
    console.log(`limits: payments per organisation 1,000,000/s and 60,000,000/min, route ceiling 10,000,000/s (every request counted, none refused); Redis: a private redis-server on 127.0.0.1`);
    console.log(`keep-alive, ${connections} connections, ${seconds} s per run, ${warmup} s warm-up, ${rounds} round(s) in Prouhet–Thue–Morse order, a freshly started edge per run;`);
    console.log(`  each request the next of ${poolSize} messages signed before the runs (a fresh jti) and a fresh x-idempotency-key${logLevel === "silent" ? "; EDGE LOGGING OFF (diagnostic run)" : ""}`);
    const fresh = async (edge: string) => {
      if (performance.now() - signedAt > POOL_MAX_AGE_MS) await fillPool();
      sent = 0;
      return start(edge as Edge);
    };
    const runs: Run<Edge>[] = await rotatedRounds(targets, edges, backend, profile, NAMES, rounds, { connections, seconds, warmup, profDir, fresh });
    for (const r of runs) if (RULES[r.m.target].signing && r.m.server.requests > pool.length) console.log(`  WARNING: ${NAMES[r.m.target]} round ${r.m.round + 1}: ${r.m.server.requests} requests for a pool of ${pool.length}: messages were reused (raise BENCH_MESSAGES)`);
    const table = compareTable("keep-alive", runs.map((r) => r.m), targets, 0, `\nbest of ${rounds} round(s):`, NAMES);
    console.log(table.text);

    const cpu = (m: Measurement<Edge>) => m.server.cpuMicros / m.server.requests;
    const cpuOf = (edge: Edge) => runs.filter((r) => r.m.target === edge).map((r) => cpu(r.m));
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    const raw = await rawCrypto(pki, pool[0]!, JSON.stringify({ ...PAYLOAD, links: { self: "x" }, meta: {} }), iterations, connections);
    const own = await measureRuleCosts(PATH, Buffer.from(pool[0]!));
    const signingOwn = await measureSigningRule(pki, pool, `${SIGNING_PUBLIC_BASE}${PATH}`, Buffer.from(BACKEND_BODY));
    const rawTotal = raw.verify + raw.sign;
    const reference = targets.includes("off") ? mean(cpuOf("off")) : Number.NaN;
    const signed = (x: number) => `${x >= 0 ? "+" : ""}${x.toFixed(1)}`;
    console.log(`\nserver CPU per request, µs (each run; mean; added over rules off, ${reference.toFixed(1)} µs):`);
    for (const edge of targets) {
      const xs = cpuOf(edge);
      const added = mean(xs) - reference;
      const ratio = edge === "off" || !targets.includes("off") ? "" : `; throughput / rules off: best ${table.comparisons.find((c) => c.target === edge)!.ratio.toFixed(3)}, mean ${meanRatio(runs, edge, "off").toFixed(3)}`;
      const addedMin = Math.min(...xs) - Math.min(...cpuOf("off"));
      console.log(`  ${NAMES[edge].padEnd(14)} ${xs.map((x) => x.toFixed(0)).join(" / ").padEnd(22)} mean ${mean(xs).toFixed(1).padStart(7)}${edge === "off" ? "" : `, adds ${signed(added)} (lowest vs lowest ${signed(addedMin)})`}${ratio}`);
    }
    console.log(`\nraw jose, ${iterations} iterations, CPU µs: compactVerify PS256 ${raw.verify.toFixed(1)}, CompactSign PS256 ${raw.sign.toFixed(1)}, together ${rawTotal.toFixed(1)} one at a time; ${raw.concurrent.toFixed(1)} with ${connections} in flight`);
    console.log(`the signing rule's own work in-process (no HTTP; CPU, one at a time, best of 3 × 500): verify, jti, sign the backend's JSON ${signingOwn.toFixed(1)} µs: ${(signingOwn - rawTotal).toFixed(1)} µs beyond the raw jose verify + sign`);
    console.log(`the rules' own work in-process (no HTTP; CPU, best of 3 × 20,000): idempotency ${own.idempotencyMicros.toFixed(1)} µs (fingerprint, claim, capture, store), limits ${own.limitsMicros.toFixed(1)} µs (three counters)`);
    for (const edge of (["all", "all-redis"] as const).filter((e) => targets.includes(e))) {
      const added = mean(cpuOf(edge)) - reference;
      const addedMin = Math.min(...cpuOf(edge)) - Math.min(...cpuOf("off"));
      const gap = added - raw.concurrent;
      console.log(`${NAMES[edge]}: the three rules add ${added.toFixed(1)} µs/req (lowest vs lowest ${addedMin.toFixed(1)}); beyond the raw crypto (${raw.concurrent.toFixed(1)} µs in flight, ${rawTotal.toFixed(1)} one at a time): ${gap.toFixed(1)} / ${(added - rawTotal).toFixed(1)} µs (lowest: ${(addedMin - raw.concurrent).toFixed(1)}; target ≤ ${TARGET_MICROS}): ${gap <= TARGET_MICROS ? "PASS" : "FAIL"}`);
    }
    console.log(`load average at the end ${loadAverage()} (${cpus} cores); total ${((performance.now() - began) / 1000).toFixed(0)} s`);
    if (profDir) console.log(`\nCPU profiles are in ${profDir}; summarise one with: node ${join(dirname(script), "profile-summary.js")} <file.cpuprofile>`);
    return 0;
  } finally {
    await guard.close();
  }
}

await benchMain(import.meta.url, main, { names: MESSAGES_ROLES, run: (role, spec) => runMessagesRole(role as MessagesRole, spec as MessagesEdgeSpec) });
