import { connect, type ClientHttp2Session } from "node:http2";
import type { LoadProfile } from "./load.js";
import type { LoadResult } from "./report.js";
import { BACKEND_BODY, BENCH_PATH } from "./roles.js";

/**
 * A small HTTP/2 load generator (`node:http2`), the counterpart of autocannon's keep-alive mode for HTTP/2: `connections`
 * TLS connections with the load profile's client certificate, each keeping `streams` requests in flight (h2load's
 * `-c` and `-m`), for `seconds`. h2load itself cannot present a client certificate, which the edge's strict
 * listener requires. Results are in autocannon's terms (2xx, latency in ms, body mismatches) for bench/report.ts.
 */
export async function runH2Load(port: number, profile: LoadProfile, o: { readonly connections: number; readonly streams: number; readonly seconds: number }): Promise<LoadResult> {
  const sessions = await Promise.all(Array.from({ length: o.connections }, () => open(port, profile)));
  const latencies: number[] = [];
  const statuses = new Map<string, number>();
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  let mismatches = 0;
  const started = performance.now();
  const end = started + o.seconds * 1000;
  const headers = { ":method": "GET", ":path": BENCH_PATH, accept: "application/json", "x-fapi-interaction-id": profile.interactionId, ...(profile.authorization !== undefined ? { authorization: profile.authorization } : {}) };

  /** One stream after the other on `session` until the run ends. */
  const worker = async (session: ClientHttp2Session) => {
    while (performance.now() < end && !session.destroyed) {
      const t0 = performance.now();
      const outcome = await request(session, headers);
      if (outcome === null) {
        errors++;
        continue;
      }
      latencies.push(performance.now() - t0);
      statuses.set(String(outcome.status), (statuses.get(String(outcome.status)) ?? 0) + 1);
      if (outcome.status < 200 || outcome.status > 299) non2xx++;
      else if (outcome.body !== BACKEND_BODY) mismatches++;
      else ok++;
    }
  };
  await Promise.all(sessions.flatMap((s) => Array.from({ length: o.streams }, () => worker(s))));
  const duration = (performance.now() - started) / 1000;
  for (const s of sessions) s.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  return {
    "2xx": ok + mismatches,
    duration,
    non2xx,
    errors,
    timeouts: 0,
    mismatches,
    statusCodeStats: Object.fromEntries([...statuses].map(([code, count]) => [code, { count }])) as LoadResult["statusCodeStats"],
    latency: { p50: at(0.5), p99: at(0.99), average: latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length) },
  };
}

/** One request on a new HTTP/2 connection: what a correct run must return. */
export async function probeH2(port: number, profile: LoadProfile): Promise<{ status: number; body: string; interactionId: string | undefined }> {
  const session = await open(port, profile);
  try {
    const outcome = await request(session, { ":method": "GET", ":path": BENCH_PATH, accept: "application/json", "x-fapi-interaction-id": profile.interactionId });
    if (outcome === null) throw new Error("the HTTP/2 probe failed without a response");
    return outcome;
  } finally {
    session.close();
  }
}

function open(port: number, profile: LoadProfile): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = connect(`https://localhost:${port}`, { host: "127.0.0.1", servername: "localhost", cert: profile.cert, key: profile.key, ca: profile.ca });
    session.once("connect", () => {
      session.off("error", reject);
      session.on("error", () => undefined);
      resolve(session);
    });
    session.once("error", reject);
  });
}

function request(session: ClientHttp2Session, headers: Record<string, string>): Promise<{ status: number; body: string; interactionId: string | undefined } | null> {
  return new Promise((resolve) => {
    let stream;
    try {
      stream = session.request(headers);
    } catch {
      return resolve(null);
    }
    let status = 0;
    let interactionId: string | undefined;
    const chunks: Buffer[] = [];
    stream.on("response", (h) => {
      status = Number(h[":status"]);
      const id = h["x-fapi-interaction-id"];
      interactionId = typeof id === "string" ? id : undefined;
    });
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.once("end", () => resolve(status === 0 ? null : { status, body: Buffer.concat(chunks).toString("utf8"), interactionId }));
    stream.once("error", () => resolve(null));
  });
}
