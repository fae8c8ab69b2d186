import "reflect-metadata";
import { probeH2, runH2Load } from "./h2-load.js";
import { envNumber, loadOptions } from "./env.js";
import { probe, runLoad, type Child, type LoadProfile } from "./load.js";
import { compareTable, loudProblems, rps, type LoadResult, type Measurement } from "./report.js";
import { BACKEND_BODY, benchMain, type RoleSpec } from "./roles.js";
import { diffStats } from "./rounds.js";
import { benchPki, benchRun, loadAverage, machineText, setupFailed } from "./setup.js";

/**
 * HTTP/2 vs HTTP/1.1 through the edge: keep-alive throughput and the edge's CPU per request, one edge (a strict
 * listener offering h2 and http/1.1, as by default), one backend, the same client certificate (participant-a's
 * chain) and the same request.
 *
 * - HTTP/1.1: autocannon, `BENCH_CONNECTIONS` persistent connections (default 50), one request in flight on each.
 * - HTTP/2: bench/h2-load.ts (node:http2), `BENCH_H2_CONNECTIONS` connections (default 5) with `BENCH_H2_STREAMS`
 *   streams in flight on each (default 10): by default the same 50 requests in flight as over HTTP/1.1. (h2load
 *   cannot present a client certificate; the strict listener requires one.)
 *
 * Each measured run (`BENCH_DURATION` s, default 10) follows a `BENCH_WARMUP` s warm-up (default 2); `BENCH_ROUNDS`
 * rounds (default 2) in ABBA order; the table shows each protocol's best round and the http2/http1.1 ratios of
 * req/s and of the edge's CPU per request (from /proc, through `process.cpuUsage` in the edge's process). The
 * backend counts the requests, so the CPU per request is per forwarded request whatever the protocol.
 */

type Protocol = "http1.1" | "http2";
const NAMES: Readonly<Record<Protocol, string>> = { "http1.1": "HTTP/1.1", http2: "HTTP/2" };
const INTERACTION_ID = "6b0f3a52-7d1e-4c8a-9f2b-3e5d7c9a1b24";

interface Load {
  readonly connections: number;
  readonly h2Connections: number;
  readonly h2Streams: number;
  readonly seconds: number;
}

function drive(protocol: Protocol, port: number, profile: LoadProfile, load: Load, seconds: number): Promise<LoadResult> {
  return protocol === "http2"
    ? runH2Load(port, profile, { connections: load.h2Connections, streams: load.h2Streams, seconds })
    : runLoad(port, profile, "keep-alive", { connections: load.connections, seconds });
}

/** A warm-up, then one measured run; the edge's requests are the backend's (HTTP/2 requests do not reach the https server's `request` event). */
async function measure(protocol: Protocol, edge: Child, backend: Child, profile: LoadProfile, load: Load, warmup: number, round: number): Promise<Measurement<Protocol>> {
  await drive(protocol, edge.port, profile, load, warmup);
  const [s0, b0] = [await edge.stats(), await backend.stats()];
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await drive(protocol, edge.port, profile, load, load.seconds);
  const seconds = (performance.now() - t0) / 1000;
  const c1 = process.cpuUsage(c0);
  const [s1, b1] = [await edge.stats(), await backend.stats()];
  const backendRun = diffStats(b0, b1);
  return {
    target: protocol,
    mode: "keep-alive",
    round,
    connections: protocol === "http2" ? load.h2Connections * load.h2Streams : load.connections,
    result,
    seconds,
    server: { ...diffStats(s0, s1), requests: backendRun.requests },
    backend: backendRun,
    clientCpuMicros: c1.user + c1.system,
  };
}

async function verify(edge: Child, backend: Child, profile: LoadProfile): Promise<string[]> {
  const failures: string[] = [];
  const before = await backend.stats();
  const h1 = await probe(edge.port, profile, "keep-alive");
  const h2 = await probeH2(edge.port, profile);
  for (const [name, res] of [
    ["HTTP/1.1", h1],
    ["HTTP/2", h2],
  ] as const) {
    if (res.status !== 200) failures.push(`${name}: the edge answered ${res.status}: ${res.body.slice(0, 300)}`);
    else if (res.body !== BACKEND_BODY) failures.push(`${name}: the edge answered 200 but not with the backend's body`);
    if (res.interactionId !== INTERACTION_ID) failures.push(`${name}: the edge did not echo x-fapi-interaction-id`);
  }
  const seen = diffStats(before, await backend.stats());
  if (seen.requests !== 2 || seen.clientCertRequests !== 2) failures.push(`the backend saw ${seen.requests} requests (${seen.clientCertRequests} with Client-Cert) for 2 probes`);
  return failures;
}

async function main(script: string): Promise<number> {
  const { seconds, connections, warmup, rounds, logLevel } = await loadOptions(2);
  const load: Load = { connections, seconds, h2Connections: Math.round(envNumber("BENCH_H2_CONNECTIONS", 5)), h2Streams: Math.round(envNumber("BENCH_H2_STREAMS", 10)) };
  const run = await benchRun(script, "http2");
  try {
    process.stdout.write(`generating test PKI in ${run.dir} ... `);
    const { profile, spec: spec0 } = await benchPki(run.dir, INTERACTION_ID, logLevel);
    process.stdout.write("done\n");
    const backend = await run.spawn("backend", spec0);
    const spec: RoleSpec = { ...spec0, upstream: `http://127.0.0.1:${backend.port}` };
    const edge = await run.spawn("edge", spec);
    if (setupFailed(await verify(edge, backend, profile))) return 1;
    console.log("verified: the edge answers 200 with the backend's body over HTTP/1.1 and HTTP/2, echoes the interaction id and forwards Client-Cert");
    console.log(
      `${machineText()}; HTTP/1.1: ${load.connections} connections; HTTP/2: ${load.h2Connections} connections × ${load.h2Streams} streams; ${seconds} s per run, ${warmup} s warm-up, ${rounds} round(s), best round shown${logLevel === "silent" ? "; EDGE LOGGING OFF (diagnostic run)" : ""}\n`,
    );
    const runs: Measurement<Protocol>[] = [];
    for (let round = 0; round < rounds; round++) {
      const order: Protocol[] = round % 2 === 0 ? ["http1.1", "http2"] : ["http2", "http1.1"];
      for (const protocol of order) {
        process.stdout.write(`round ${round + 1}/${rounds}: ${NAMES[protocol]} ... `);
        const m = await measure(protocol, edge, backend, profile, load, warmup, round);
        runs.push(m);
        process.stdout.write(`${Math.round(rps(m))} req/s\n`);
        const loud = loudProblems(m, NAMES);
        if (loud) console.log(loud);
      }
    }
    const header = `\n== keep-alive through the edge: HTTP/2 vs HTTP/1.1, ${seconds} s, best of ${rounds} ==`;
    const { text, comparisons } = compareTable("keep-alive", runs, ["http1.1", "http2"], 0, header, NAMES);
    // compareTable's verdict lines compare against a goal; this comparison has none, so only the table and the ratios are printed.
    console.log(text.split("\n").filter((l) => !l.startsWith("  => ")).join("\n"));
    const c = comparisons[0]!;
    console.log("\nsummary (best rounds):");
    console.log(`  HTTP/2 ÷ HTTP/1.1 req/s:                  ${c.ratio.toFixed(2)}`);
    // The projection is the reference's CPU per request ÷ HTTP/2's: its inverse is HTTP/2's cost relative to HTTP/1.1.
    console.log(`  HTTP/2 ÷ HTTP/1.1 edge CPU per request:   ${(1 / c.projection).toFixed(2)}`);
    console.log(`  load average at the end: ${loadAverage()}`);
    return 0;
  } finally {
    await run.close();
  }
}

await benchMain(import.meta.url, main);
