import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest } from "../helpers/client.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";
import { openRaw, type WireOutcome } from "./raw-http.js";

/**
 * A seeded fuzz run of raw-socket traffic against a real edge: valid requests, truncated ones, several pipelined
 * on one connection, mutated ones and garbage, written in random pieces, each connection half-closed by the client
 * once it has written everything. Whatever arrives:
 * - no 5xx other than 502/503/504 (and 505 for a request line with another HTTP version), and every non-2xx is
 *   an edge rejection in the OFB format (the backend only answers 200);
 * - no crash, no unhandled error, and the edge still serves afterwards;
 * - every request the backend saw is one whose answer the client received (found by its interaction id).
 * The seed is fixed (override with FUZZ_SEED) and printed with the first failing connection; it fixes what is sent,
 * except the interaction ids, which are random UUIDs so that each request is told apart at the backend.
 */

const SEED = Number(process.env.FUZZ_SEED ?? 0x14_ed9e);
const CONNECTIONS = 520;
const PARALLEL = 24;
const MIN_REQUESTS = 2_000;

const PATHS = [
  "/open-banking/accounts/v2/accounts",
  "/open-banking/accounts/v2/accounts?page=2&page-size=25",
  "/open-banking/payments/v4/pix/payments",
  "/.well-known/openid-configuration",
  "/not-routed",
];

interface Item {
  readonly kind: "valid" | "closing" | "http10" | "truncated" | "mutated" | "garbage";
  readonly bytes: Buffer;
}

interface Plan {
  readonly items: readonly Item[];
  /** Where the concatenated bytes are cut into separate writes (fractions of the length). */
  readonly cuts: readonly number[];
  readonly withCertificate: boolean;
}

const request = fc
  .record({
    method: fc.constantFrom("GET", "GET", "POST", "PUT", "DELETE"),
    path: fc.constantFrom(...PATHS),
    body: fc.string({ maxLength: 80 }),
    chunked: fc.boolean(),
    extra: fc.array(fc.tuple(fc.constantFrom("accept", "x-custom", "authorization", "x-forwarded-for", "client-cert", "cookie"), fc.string({ maxLength: 40 }).map((v) => v.replace(/[\r\n]/g, ""))), { maxLength: 3 }),
  })
  .map(({ method, path, body, chunked, extra }) => (close: boolean, version = "HTTP/1.1") => {
    const fields: [string, string][] = [["Host", "localhost"], ["x-fapi-interaction-id", randomUUID()], ...extra];
    if (close) fields.push(["Connection", "close"]);
    const payload = method === "GET" || method === "DELETE" ? "" : body;
    const bytes = Buffer.from(payload, "utf8");
    let framed = "";
    if (payload) {
      if (chunked && version === "HTTP/1.1") {
        fields.push(["Transfer-Encoding", "chunked"]);
        framed = `${bytes.length.toString(16)}\r\n${payload}\r\n0\r\n\r\n`;
      } else {
        fields.push(["Content-Length", String(bytes.length)]);
        framed = payload;
      }
    }
    return Buffer.from(`${method} ${path} ${version}\r\n${fields.map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n${framed}`, "utf8");
  });

const mutation = fc.oneof(
  fc.record({ op: fc.constant("flip" as const), at: fc.double({ min: 0, max: 1, noNaN: true }), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant("insert" as const), at: fc.double({ min: 0, max: 1, noNaN: true }), text: fc.constantFrom("\r\n", "\n", "\0", " ", ":", "\r\n\r\n", "Transfer-Encoding: chunked\r\n", "Content-Length: 7\r\n", "Host: other\r\n", " HTTP/1.1\r\n") }),
  fc.record({ op: fc.constant("cut" as const), at: fc.double({ min: 0, max: 1, noNaN: true }), length: fc.integer({ min: 1, max: 20 }) }),
  fc.record({ op: fc.constant("version" as const), version: fc.constantFrom("HTTP/2.0", "HTTP/0.9", "HTTP/1.2", "HTTP/9.9", "HTTP/1", "HTTPS/1.1", "http/1.1") }),
  fc.record({ op: fc.constant("oversize" as const), bytes: fc.integer({ min: 3_000, max: 9_000 }) }),
);

function mutate(bytes: Buffer, m: typeof mutation extends fc.Arbitrary<infer T> ? T : never): Buffer {
  const at = "at" in m ? Math.floor(m.at * bytes.length) : 0;
  switch (m.op) {
    case "flip":
      return Buffer.concat([bytes.subarray(0, at), Buffer.from([m.byte]), bytes.subarray(at + 1)]);
    case "insert":
      return Buffer.concat([bytes.subarray(0, at), Buffer.from(m.text, "latin1"), bytes.subarray(at)]);
    case "cut":
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.length)]);
    case "version":
      return Buffer.from(bytes.toString("latin1").replace("HTTP/1.1", m.version), "latin1");
    case "oversize":
      return Buffer.from(bytes.toString("latin1").replace("\r\n", `\r\nx-padding: ${"p".repeat(m.bytes)}\r\n`), "latin1");
  }
}

const item: fc.Arbitrary<Item> = fc.oneof(
  { weight: 10, arbitrary: request.map((r) => ({ kind: "valid" as const, bytes: r(false) })) },
  { weight: 1, arbitrary: request.map((r) => ({ kind: "closing" as const, bytes: r(true) })) },
  { weight: 1, arbitrary: request.map((r) => ({ kind: "http10" as const, bytes: r(false, "HTTP/1.0") })) },
  { weight: 2, arbitrary: fc.tuple(request, fc.double({ min: 0, max: 1, noNaN: true })).map(([r, f]) => { const b = r(false); return { kind: "truncated" as const, bytes: b.subarray(0, Math.floor(f * b.length)) }; }) },
  { weight: 3, arbitrary: fc.tuple(request, mutation).map(([r, m]) => ({ kind: "mutated" as const, bytes: mutate(r(false), m) })) },
  { weight: 1, arbitrary: fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.string({ minLength: 1, maxLength: 200 }).map((s) => new TextEncoder().encode(s))).map((b) => ({ kind: "garbage" as const, bytes: Buffer.from(b) })) },
);

const plan: fc.Arbitrary<Plan> = fc.record({
  items: fc.array(item, { minLength: 1, maxLength: 8 }),
  cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }),
  withCertificate: fc.integer({ min: 0, max: 9 }).map((n) => n > 0),
});

let pki: TestPkiManifest;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
let edge: Awaited<ReturnType<typeof startTestEdge>>;

beforeAll(async () => {
  pki = await testPki();
  backend = await startRecordingBackend((req, res) => {
    const body = JSON.stringify({ id: req.headers["x-fapi-interaction-id"] });
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  });
  const tls = { cert: pki.server.cert, key: pki.server.key, trustAnchors: [pki.trustAnchors] };
  edge = await startTestEdge({
    pki,
    upstream: backend.url,
    listeners: [{ name: "mtls", host: "127.0.0.1", port: 0, mode: "permissive", tls, http: { maxHeaderBytes: 4_096, headersTimeoutMs: 3_000, requestTimeoutMs: 5_000 } }],
  });
});

afterAll(async () => {
  await edge?.close();
  await backend?.close();
});

async function run(p: Plan): Promise<WireOutcome> {
  const conn = await openRaw(pki, edge.port, p.withCertificate ? {} : { client: null });
  const bytes = Buffer.concat(p.items.map((i) => i.bytes));
  const cuts = [...new Set(p.cuts.map((c) => Math.floor(c * bytes.length)))].sort((a, b) => a - b);
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut > from) conn.write(bytes.subarray(from, cut));
    from = cut;
  }
  conn.socket.end();
  return conn.closed(15_000);
}

describe("raw-socket fuzz (seeded)", () => {
  it(`≥ ${MIN_REQUESTS} valid, truncated, pipelined, mutated and garbage requests: no 500, no crash, no lost answer`, async () => {
    const plans = fc.sample(plan, { seed: SEED, numRuns: CONNECTIONS });
    const requests = plans.reduce((n, p) => n + p.items.length, 0);
    expect(requests).toBeGreaterThanOrEqual(MIN_REQUESTS);
    const started = performance.now();
    const outcomes: WireOutcome[] = new Array(plans.length);
    let next = 0;
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        while (next < plans.length) {
          const i = next++;
          outcomes[i] = await run(plans[i]!);
        }
      }),
    );
    const ms = Math.round(performance.now() - started);
    const failure = (i: number, why: string) => `seed ${SEED} (FUZZ_SEED), connection ${i}: ${why}\nsent: ${JSON.stringify(Buffer.concat(plans[i]!.items.map((x) => x.bytes)).toString("latin1")).slice(0, 2_000)}\ngot: ${JSON.stringify(outcomes[i]).slice(0, 2_000)}`;

    const answered = new Map<string, number>();
    outcomes.forEach((o, i) => {
      expect(o.closedAfter, failure(i, "the edge did not close the connection")).toBeLessThan(Number.POSITIVE_INFINITY);
      for (const r of o.responses) {
        if (r.status >= 500) expect(r.status === 502 || r.status === 503 || r.status === 504 || (r.status === 505 && r.body.includes("REQUEST_VERSION_UNSUPPORTED")), failure(i, `status ${r.status}`)).toBe(true);
        if (r.status !== 200) expect(r.headers["content-type"], failure(i, `a ${r.status} not in the OFB format`)).toBe("application/json; charset=utf-8");
        const id = r.headers["x-fapi-interaction-id"];
        if (id) answered.set(id, r.status);
      }
    });
    for (const seen of backend.received) {
      const id = String(seen.headers["x-fapi-interaction-id"]);
      const i = plans.findIndex((p) => p.items.some((x) => x.bytes.includes(id)));
      expect(answered.get(id), i >= 0 ? failure(i, `the backend saw ${seen.method} ${seen.url} (${id}) but the client got no answer to it`) : `seed ${SEED}: the backend saw ${id}, which the edge generated, and no client got its answer`).toBe(200);
    }
    expect(edge.logs.filter((l) => l.level === "error" || l.level === "fatal")).toEqual([]);
    const after = await httpsRequest({ pki, port: edge.port, credentials: clientCredentials(pki, "participant-a") });
    expect(after.status).toBe(200);
    console.info(`fuzz seed ${SEED}: ${requests} requests on ${plans.length} connections in ${ms} ms; the backend saw ${backend.received.length - 1}`);
  });
});
