import "reflect-metadata";
import { dirname, join } from "node:path";
import { cpus } from "./cpus.js";
import { loadOptions } from "./env.js";
import { probe, type Child, type LoadProfile, type Mode } from "./load.js";
import { loudProblems, modeTable, type Measurement, type Target } from "./report.js";
import { BACKEND_BODY, benchMain, type RoleSpec } from "./roles.js";
import { diffStats, measureRun } from "./rounds.js";
import { benchPki, benchRun, loadAverage, machineText, setupFailed } from "./setup.js";

/**
 * Edge vs bare Node `https` reverse proxy, one run, same machine, same backend, same client-certificate load.
 *
 * Processes: the parent generates a test PKI in a temp dir and runs autocannon; the backend, the baseline
 * and the edge each run in their own child process (this script forked with a role argument), so the load
 * generator never shares an event loop with the server under test. Both servers stay up for the whole run
 * but only one is under load at a time.
 *
 * Schedule: per mode, `BENCH_ROUNDS` rounds (default 2); each round measures both servers one after the
 * other, each preceded by a `BENCH_WARMUP`-second warm-up (default 2) on fresh connections. The order
 * alternates so each server goes first equally often: keep-alive runs baseline,edge | edge,baseline and
 * new-connection runs edge,baseline | baseline,edge (ABBA, cancelling linear drift such as thermal or
 * neighbour load). The table shows each server's best round (highest 2xx req/s, latency from that run);
 * every round's figure is printed below it.
 *
 * Modes:
 * - keep-alive: `BENCH_CONNECTIONS` (default 50) persistent connections, `BENCH_DURATION` s (default 10).
 * - new-connection: every request carries `Connection: close`, the server closes after the response and
 *   autocannon reconnects (full TLS 1.3 handshake with client certificate, no resumption on either server);
 *   a hook keeps autocannon from queueing a request on the closing connection (see bench/load.ts).
 *   The servers count `secureConnection` events; "hs/req" must be ~1.000.
 *
 * Targets: edge keep-alive throughput >= 0.8x baseline, new-connection rate >= 0.9x baseline. A FAIL is a
 * finding, not an error: the exit code is 0 unless the setup itself failed (e.g. the edge does not answer
 * 200 with the backend's body before measuring).
 *
 * Other env: `BENCH_MODES` (comma list, default both). `BENCH_EDGE_LOG=silent` turns the edge's access
 * log off (diagnosis only: the targets are for the edge as deployed, logging included). `BENCH_CPU_PROF=<dir>`
 * records a V8 CPU profile (the profiler behind `node --cpu-prof`) of each server during each measured run
 * only; `bench/profile-summary.ts` summarises one by self time per module and function.
 */

const TARGETS: Readonly<Record<Mode, number>> = { "keep-alive": 0.8, "new-connection": 0.9 };
const INTERACTION_ID = "6b0f3a52-7d1e-4c8a-9f2b-3e5d7c9a1b24";

function envModes(): Mode[] {
  const raw = process.env.BENCH_MODES ?? "keep-alive,new-connection";
  const modes = raw.split(",").map((m) => m.trim()).filter(Boolean);
  for (const m of modes) if (m !== "keep-alive" && m !== "new-connection") throw new Error(`BENCH_MODES: unknown mode '${m}'`);
  return modes as Mode[];
}

async function verify(target: Target, child: Child, profile: LoadProfile, backend: Child): Promise<string[]> {
  const failures: string[] = [];
  const before = await backend.stats();
  for (const mode of ["keep-alive", "new-connection"] as const) {
    const res = await probe(child.port, profile, mode);
    if (res.status !== 200) failures.push(`${target} (${mode} headers) answered ${res.status}: ${res.body.slice(0, 300)}`);
    else if (res.body !== BACKEND_BODY) failures.push(`${target} (${mode} headers) answered 200 but not with the backend's body`);
    if (target === "edge" && res.interactionId !== INTERACTION_ID) failures.push(`edge did not echo x-fapi-interaction-id`);
  }
  const seen = diffStats(before, await backend.stats());
  if (seen.requests !== 2) failures.push(`${target}: backend saw ${seen.requests} requests for 2 probes`);
  if (target === "edge" && seen.clientCertRequests !== 2) failures.push(`edge forwarded Client-Cert on ${seen.clientCertRequests} of 2 probes`);
  return failures;
}

async function main(script: string): Promise<number> {
  const { seconds, connections, warmup, rounds, logLevel, profDir } = await loadOptions(2);
  const modes = envModes();

  const run = await benchRun(script, "");
  try {
    process.stdout.write(`generating test PKI in ${run.dir} ... `);
    const { profile, spec: spec0 } = await benchPki(run.dir, INTERACTION_ID, logLevel);
    process.stdout.write("done\n");

    const backend = await run.spawn("backend", spec0);
    const spec: RoleSpec = { ...spec0, upstream: `http://127.0.0.1:${backend.port}` };
    const baseline = await run.spawn("baseline", spec);
    const edge = await run.spawn("edge", spec);
    const servers: Record<Target, Child> = { baseline, edge };

    const failures = [...(await verify("baseline", baseline, profile, backend)), ...(await verify("edge", edge, profile, backend))];
    if (setupFailed(failures)) return 1;
    console.log("verified: both servers answer 200 with the backend's body; the edge echoes the interaction id and forwards Client-Cert");
    console.log(
      `${machineText()}; ${connections} connections, ${seconds} s per run, ${warmup} s warm-up, ${rounds} round(s), best round shown${logLevel === "silent" ? "; EDGE LOGGING OFF (diagnostic run)" : ""}\n`,
    );

    const tables: { mode: Mode; pass: boolean; ratio: number }[] = [];
    for (const [mi, mode] of modes.entries()) {
      const runs: Measurement[] = [];
      for (let round = 0; round < rounds; round++) {
        const order: Target[] = (round + mi) % 2 === 0 ? ["baseline", "edge"] : ["edge", "baseline"];
        for (const target of order) {
          process.stdout.write(`${mode} round ${round + 1}/${rounds}: ${target} ... `);
          const profileFile = profDir && join(profDir, `${target}-${mode}-round${round + 1}.cpuprofile`);
          const { m } = await measureRun(target, servers[target], backend, profile, mode, round, { connections, seconds, warmup, profileFile });
          runs.push(m);
          process.stdout.write(`${Math.round(m.result["2xx"] / m.result.duration)} req/s\n`);
          const loud = loudProblems(m);
          if (loud) console.log(loud);
        }
      }
      const header = `\n== ${mode}: ${connections} connections, ${seconds} s, best of ${rounds} ==`;
      const table = modeTable(mode, runs, TARGETS[mode], header);
      console.log(table.text);
      tables.push({ mode, pass: table.pass, ratio: table.ratio });
    }

    console.log("\nsummary:");
    for (const t of tables) console.log(`  ${t.mode.padEnd(15)} edge/baseline ${t.ratio.toFixed(2)} (target >= ${TARGETS[t.mode].toFixed(2)}): ${t.pass ? "PASS" : "FAIL"}`);
    // Other processes on the machine (e.g. test runs) skew the figures: show how busy it was.
    console.log(`  load average at the end: ${loadAverage()} (${cpus} cores; the benchmark itself keeps about 2 busy)`);
    if (profDir) {
      console.log(`\nCPU profiles of every measured run are in ${profDir}; the figures above were taken under the profiler.`);
      console.log(`Summarise one with: node ${join(dirname(script), "profile-summary.js")} <file.cpuprofile>`);
    }
    return 0;
  } finally {
    await run.close();
  }
}

await benchMain(import.meta.url, main);
