import "reflect-metadata";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startAuthorizationServerStub, type AuthorizationServerStub } from "../src/dev/authorization-server.js";
import { ANCHOR_ROLES, runAnchorRole, runLoadProcesses, type AnchorRole, type LoadgenSpec } from "./anchors-roles.js";
import { anchorsTable, type AnchorRun } from "./anchors-report.js";
import { findProgram, freePort, placeTree, startEdgeServe, startHaproxy, startNginx, treeCpuMicros, treeRss, treeThreadCpu, type ExternalServer } from "./anchors-servers.js";
import { issueTokens } from "./binding-measure.js";
import { clientAndPool, writeDirectoryFixture } from "./directory-fixture.js";
import { envNumber, loadOptions } from "./env.js";
import type { Mode } from "./load.js";
import { loudProblems, type Measurement } from "./report.js";
import { benchMain } from "./roles.js";
import { DIRECTORY_ROLES, runDirectoryRole, type DirectoryRole } from "./directory-roles.js";
import { prouhetOrder } from "./rounds.js";
import { benchPki, benchRun, forwardedFailures, guardRun, loadAverage, machineText, probeThrough, setupFailed } from "./setup.js";

/**
 * The edge next to the servers a bank's platform team compares it with (issue 17), at OFB's traffic shape: nginx
 * (2 workers), HAProxy (2 threads), a bare Node https proxy (`node:cluster`, 2 workers) and the edge with the full
 * pipeline (`ofb-edge serve`, 2 workers: Directory of `BENCH_ORGS` organisations, token binding enforced, default
 * header profiles, access log on), one backend process, the same client certificate (participant-a, leaf + AC) and
 * the same bound token for all. nginx and HAProxy are the system's (`apt-get install -y nginx haproxy`); absent, they
 * are skipped.
 *
 * Modes: keep-alive (`BENCH_CONNECTIONS`, default 64 connections) and handshake (`BENCH_HANDSHAKE_CLIENTS`, default
 * 16 clients that each connect, send one request and close: a full TLS 1.3 handshake with client certificate per
 * request, no resumption anywhere), both spread over `BENCH_LOAD_PROCESSES` load-generator processes (default 4).
 * The figure that matters is the **server CPU per request**: user + system time of the server's whole process tree
 * from /proc (master and workers, the edge's cluster primary), over the 2xx responses the backend got; req/s is
 * bounded by the load generators, which share the machine, in handshake mode. `BENCH_ROUNDS` rounds (default 2) in
 * rotated order; the table shows each server's median CPU per request and its best req/s.
 *
 * Also: each edge worker's RSS after the runs (target ≤ 150 MB with the 2,000-organisation Directory). With
 * `BENCH_CPU_PROF=<dir>`, the edge runs under `node --cpu-prof` (primary and workers, whole life, written when it
 * stops); run one mode and one server (`BENCH_ANCHORS=edge BENCH_MODES=new-connection`) so that the profile is that
 * load. `BENCH_ANCHORS` picks servers (default `nginx,haproxy,node,edge`), `BENCH_MODES` the modes (default
 * `keep-alive,new-connection`); `BENCH_EDGE_LOG=silent` turns the edge's access log off (diagnosis only); `BENCH_THREADS=1` prints each
 * run's CPU per request by process and thread (main thread, libuv pool, GC); `BENCH_IDLE` (s, default 5) how long each
 * server's idle CPU is measured before the load.
 */

const INTERACTION_ID = "a7c1d5e2-4b3f-4e8a-9c6d-2f1e0b9a8d7c";
type Server = "nginx" | "haproxy" | "node" | "edge";
const NAMES: Readonly<Record<Server, string>> = { nginx: "nginx, 2 workers", haproxy: "HAProxy, 2 threads", node: "bare Node proxy, cluster 2", edge: "ofb-edge full, 2 workers" };

let guard: ReturnType<typeof guardRun> | undefined;

/** A run's CPU per request by thread (`BENCH_THREADS=1`): the top process is `top`, the others its workers, in pid order. */
function threadText(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>, requests: number, top: number): string {
  const pids = [...new Set([...after.keys()].map((k) => Number(k.split(" ")[0])))].sort((a, b) => a - b);
  const label = (pid: number) => (pid === top ? "top" : `w${pids.filter((p) => p !== top).indexOf(pid) + 1}`);
  return [...after]
    .map(([k, v]) => [k, (v - (before.get(k) ?? 0)) / requests] as const)
    .filter(([, v]) => v >= 1)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${label(Number(k.split(" ")[0]))}:${k.slice(k.indexOf(" ") + 1)} ${v.toFixed(0)}`)
    .join(", ");
}

function list<T extends string>(name: string, def: string, allowed: readonly T[]): T[] {
  const items = (process.env[name] ?? def).split(",").map((s) => s.trim()).filter(Boolean);
  for (const i of items) if (!allowed.includes(i as T)) throw new Error(`${name}: unknown '${i}' (one of ${allowed.join(", ")})`);
  return items as T[];
}

async function main(script: string): Promise<number> {
  const { seconds, warmup, rounds, profDir, logLevel } = await loadOptions(2);
  const keepAliveConnections = Math.round(envNumber("BENCH_CONNECTIONS", 64));
  const handshakeClients = Math.round(envNumber("BENCH_HANDSHAKE_CLIENTS", 16));
  const loadProcesses = Math.round(envNumber("BENCH_LOAD_PROCESSES", 4));
  const orgs = Math.round(envNumber("BENCH_ORGS", 2000));
  const threadDetail = process.env.BENCH_THREADS === "1";
  const wanted = list<Server>("BENCH_ANCHORS", "nginx,haproxy,node,edge", ["nginx", "haproxy", "node", "edge"]);
  // `BENCH_MODES=none`: no load, only the servers' start and the edge's memory.
  const modes = process.env.BENCH_MODES === "none" ? [] : list<Mode>("BENCH_MODES", "keep-alive,new-connection", ["keep-alive", "new-connection"]);
  const began = performance.now();
  console.log(`${machineText()}\nload average at the start: ${loadAverage()}`);

  const run = await benchRun(script, "anchors-");
  guard = guardRun(run);
  try {
    process.stdout.write(`generating a test PKI and a Directory of ${orgs} organisations in ${run.dir} ... `);
    const { pki, profile: plain, spec: spec0 } = await benchPki(run.dir, INTERACTION_ID, "info");
    const { client, pool } = await clientAndPool(pki);
    const fixtureDir = join(run.dir, "directory");
    await writeDirectoryFixture({ dir: fixtureDir, organisations: orgs, statementsPerOrganisation: 10, client, pool });
    const stub: AuthorizationServerStub = await startAuthorizationServerStub({ host: "127.0.0.1", port: 0 });
    guard.add({ stop: () => stub.close() });
    const [token] = await issueTokens(stub, client.thumbprint, 1);
    const profile = { ...plain, authorization: `Bearer ${token!}` };
    process.stdout.write("done\n");

    const backend = await run.spawn("backend", spec0);
    const mock = await run.spawn("mock-directory", { fixtureDir });
    const a = pki.clients["participant-a"]!;
    const tls = { cert: resolve(pki.server.cert), key: resolve(pki.server.key), anchors: resolve(pki.trustAnchors) };
    const servers = new Map<Server, { pid: number; port: number }>();
    for (const s of wanted) {
      if (s === "nginx" || s === "haproxy") {
        const bin = findProgram(s);
        if (!bin) {
          console.log(`${s}: not installed (not on PATH, not in /usr/sbin); skipped. Install it with: apt-get install -y nginx haproxy`);
          continue;
        }
        const started: ExternalServer = await (s === "nginx" ? startNginx : startHaproxy)(bin, run.dir, tls, backend.port);
        guard.add(started);
        servers.set(s, started);
      } else if (s === "node") {
        const child = await run.spawn("node-proxy", { ...spec0, upstream: `http://127.0.0.1:${backend.port}` });
        placeTree(child.pid);
        servers.set(s, child);
      } else {
        const port = await freePort();
        const edge = await startEdgeServe(fileURLToPath(new URL("../../bin/ofb-edge.js", import.meta.url)), run.dir, {
          listeners: [{ name: "bench", host: "127.0.0.1", mode: "strict", tls: { cert: tls.cert, key: tls.key, trustAnchors: [tls.anchors] }, port }],
          routes: [{ name: "open-banking", pathPrefix: "/open-banking/", upstream: `http://127.0.0.1:${backend.port}` }],
          policy: { transportRoots: [tls.anchors] },
          directory: { participantsUrl: `http://127.0.0.1:${mock.port}/participants`, keystoreUrl: `http://127.0.0.1:${mock.port}/keystore/` },
          authorizationServer: { issuer: stub.issuer },
          log: { level: logLevel },
          workers: 2,
          drainDelayMs: 0,
        }, profDir);
        guard.add(edge);
        servers.set(s, edge);
      }
    }

    const failures: string[] = [];
    for (const [s, { port }] of servers) {
      const probed = await probeThrough({ port }, backend, profile);
      // Only the edge echoes x-fapi-interaction-id (FAPI 1 Part 1 §6.2.1); the others pass the backend's answer on.
      failures.push(...forwardedFailures(NAMES[s], s === "edge" ? probed : { ...probed, res: { ...probed.res, interactionId: INTERACTION_ID } }, INTERACTION_ID));
      if (s === "edge" && (probed.seen.ofbRolesRequests !== 1 || probed.seen.ofbClientIdRequests !== 1 || probed.seen.clientCertRequests !== 1)) {
        failures.push(`edge: the backend did not get Client-Cert, x-ofb-roles and x-ofb-client-id (the Directory check, token binding and profiles must all run)`);
      }
    }
    if (setupFailed(failures)) return 1;
    console.log(`verified: every server answers 200 with the backend's body; the edge ran the Directory check (x-ofb-roles), token binding (x-ofb-client-id) and forwarded Client-Cert`);
    console.log(`client: participant-a (organisation ${client.organisationId}), leaf + AC, token bound to it (cnf x5t#S256 ${a.thumbprint})`);

    // What each server spends with no load (timers; the edge's Directory, revocation and metrics schedules): at a few
    // dozen handshakes per second it is a visible part of the CPU per request.
    const idleSeconds = envNumber("BENCH_IDLE", 5);
    const idle = new Map<Server, number>();
    const idleBefore = new Map([...servers].map(([s, { pid }]) => [s, treeCpuMicros(pid)] as const));
    await new Promise((r) => setTimeout(r, idleSeconds * 1000));
    for (const [s, { pid }] of servers) idle.set(s, (treeCpuMicros(pid) - idleBefore.get(s)!) / idleSeconds);
    console.log(`idle CPU over ${idleSeconds} s, no load (ms of CPU per second): ${[...idle].map(([s, us]) => `${s} ${(us / 1000).toFixed(1)}`).join(", ")}`);

    const targets = [...servers.keys()];
    const runs: AnchorRun<Server>[] = [];
    for (const mode of modes) {
      const connections = mode === "keep-alive" ? keepAliveConnections : handshakeClients;
      console.log(`\n${mode}: ${connections} ${mode === "keep-alive" ? "connections" : "clients, one request per connection"}, ${loadProcesses} load-generator processes, ${seconds} s per run after ${warmup} s warm-up, ${rounds} round(s)`);
      const base: Omit<LoadgenSpec, "connections" | "seconds" | "port"> = { cert: a.chain, key: a.key, ca: pki.trustAnchors, interactionId: INTERACTION_ID, authorization: profile.authorization, mode };
      for (let round = 0; round < rounds; round++) {
        for (const target of prouhetOrder(targets, round)) {
          const { pid, port } = servers.get(target)!;
          process.stdout.write(`  round ${round + 1}/${rounds}: ${NAMES[target]} ... `);
          await runLoadProcesses(script, { ...base, port, seconds: warmup }, connections, loadProcesses);
          const as0 = stub.counts.discovery + stub.counts.jwks + stub.counts.introspection;
          const [cpu0, threads0, b0, d0] = [treeCpuMicros(pid), treeThreadCpu(pid), await backend.stats(), await mock.stats()];
          const t0 = performance.now();
          const result = await runLoadProcesses(script, { ...base, port, seconds }, connections, loadProcesses);
          const wall = (performance.now() - t0) / 1000;
          const [cpu1, threads1, b1, d1] = [treeCpuMicros(pid), treeThreadCpu(pid), await backend.stats(), await mock.stats()];
          const m: Measurement<Server> = {
            target,
            mode,
            round,
            connections,
            result,
            seconds: wall,
            server: { handshakes: 0, requests: b1.requests - b0.requests, clientCertRequests: 0, cpuMicros: cpu1 - cpu0 },
            backend: { handshakes: 0, requests: b1.requests - b0.requests, clientCertRequests: b1.clientCertRequests - b0.clientCertRequests, cpuMicros: b1.cpuMicros - b0.cpuMicros },
            clientCpuMicros: 0,
          };
          runs.push({ m });
          process.stdout.write(`${Math.round(result["2xx"] / result.duration)} req/s, ${Math.round(m.server.cpuMicros / m.server.requests)} µs CPU/req\n`);
          // The Directory is synced and the token verified before the load; a request to either during a run is work the run measured.
          if (d1.requests > d0.requests) console.log(`    the mock Directory got ${d1.requests - d0.requests} request(s) during the run`);
          const as1 = stub.counts.discovery + stub.counts.jwks + stub.counts.introspection;
          if (as1 > as0) console.log(`    the authorization server got ${as1 - as0} request(s) during the run`);
          if (threadDetail) console.log(`    µs CPU/req by process and thread: ${threadText(threads0, threads1, m.server.requests, pid)}`);
          const loud = loudProblems(m, NAMES);
          if (loud) console.log(loud);
        }
      }
    }

    for (const mode of modes) console.log(anchorsTable(mode, runs.filter((r) => r.m.mode === mode), targets, NAMES));

    const edge = servers.get("edge");
    if (edge) {
      // What a worker holds once the garbage of its start-up sync is collected (V8 runs a major GC within seconds of idling).
      if (runs.length === 0) await new Promise((r) => setTimeout(r, envNumber("BENCH_SETTLE", 15) * 1000));
      const rss = treeRss(edge.pid);
      const [primary, ...workers] = rss;
      const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;
      const worst = Math.max(...workers.map((w) => w.rss));
      console.log(
        `\nedge memory ${runs.length === 0 ? "after start, no load" : "after the runs"} (/proc; Directory of ${orgs} organisations, memory store in each worker): primary RSS ${mb(primary?.rss ?? 0)}, workers RSS ${workers.map((w) => `${mb(w.rss)} (PSS ${mb(w.pss)})`).join(", ")} (target per worker <= 150 MB RSS: ${worst <= 150 * 1024 * 1024 ? "PASS" : "FAIL"})`,
      );
    }
    console.log(`\nload average at the end: ${loadAverage()}; total ${((performance.now() - began) / 1000).toFixed(0)} s`);
    if (profDir) console.log(`CPU profiles of the edge's workers (whole life, written when the edge stops) will be in ${profDir}`);
    return 0;
  } finally {
    await guard.close();
  }
}

const roles = {
  names: [...ANCHOR_ROLES, ...DIRECTORY_ROLES],
  run: (role: string, spec: unknown) =>
    (ANCHOR_ROLES as readonly string[]).includes(role) ? runAnchorRole(role as AnchorRole, spec, process.argv[1]!) : runDirectoryRole(role as DirectoryRole, spec as never),
};
await benchMain(import.meta.url, main, roles, () => guard?.interrupted() ?? false);
