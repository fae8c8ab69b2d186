import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { freePort } from "../helpers/backend.js";
import { httpsRequest, type TestResponse } from "../helpers/client.js";
import { clientCredentials, testPki } from "../helpers/edge.js";
import { deletePrefix, redisUrl, uniquePrefix } from "../helpers/redis.js";
import { spawnEdge, type SpawnedEdge } from "../helpers/serve-process.js";
import { errorCode, paymentsRoute, postPayment, signedPayment, startPaymentsBackend } from "../idempotency/helpers.js";

/**
 * Two `ofb-edge serve` processes (two replicas behind a load balancer) sharing one Redis for the idempotency store
 * and the traffic counters, in front of one backend: a key claimed or a request counted on one is seen by the other.
 */

const ACCOUNTS = "/open-banking/accounts/v2/accounts";
const CONSENTS = "/open-banking/consents/v3/consents";
/** What the backend answers every request it receives. */
const FORWARDED = 201;
/** The consents family's limit per organisation (per minute: no window rolls over during the test). */
const CONSENTS_PER_MINUTE = 3;

let pki: TestPkiManifest;
let backend: Awaited<ReturnType<typeof startPaymentsBackend>>;
const edges: SpawnedEdge[] = [];
const admin: number[] = [];
const keyPrefix = uniquePrefix();

beforeAll(async () => {
  pki = await testPki();
  backend = await startPaymentsBackend();
  const tls = { cert: pki.server.cert, key: pki.server.key, trustAnchors: [pki.trustAnchors] };
  for (let i = 0; i < 2; i++) {
    const adminPort = await freePort();
    admin.push(adminPort);
    edges.push(
      await spawnEdge({
        listeners: [{ name: "edge", host: "127.0.0.1", port: 0, mode: "permissive", tls }],
        policy: { transportRoots: [pki.ca.root.cert] },
        routes: [
          paymentsRoute(backend.url),
          { name: "accounts", pathPrefix: "/open-banking/accounts/", upstream: backend.url, mtls: "required", globalPerSecond: 2 },
          { name: "open-banking", pathPrefix: "/open-banking/", upstream: backend.url, mtls: "required" },
        ],
        idempotency: { store: { type: "redis", url: redisUrl(), keyPrefix } },
        limits: { store: { type: "redis", url: redisUrl(), keyPrefix }, families: { consents: { organisation: { perMinute: CONSENTS_PER_MINUTE } } } },
        revocation: { mode: "off" },
        admin: { host: "127.0.0.1", port: adminPort },
        workers: 1,
      }),
    );
  }
}, 60_000);

afterAll(async () => {
  await Promise.all(edges.map(async (e) => (await e.stop(), await e.cleanup())));
  await backend?.close();
  await deletePrefix(redisUrl(), keyPrefix);
});

const metrics = async (i: number) => (await fetch(`http://127.0.0.1:${admin[i]}/metrics`)).text();
const sample = (text: string, series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, "\\$&")} (\\d+)`, "m").exec(text)?.[1] ?? 0);
const get = (i: number, path: string, client = "participant-a") => httpsRequest({ pki, port: edges[i]!.port, credentials: clientCredentials(pki, client), path });

describe("idempotency across two edge processes sharing Redis", () => {
  it("a repeat on the other process gets the first response byte for byte; another body there gets 422 ERRO_IDEMPOTENCIA; the backend receives the key once", async () => {
    const key = randomUUID();
    const body = signedPayment({ amount: "42.00" });
    const first = await postPayment(pki, edges[0]!.port, { key, body });
    expect(first.status).toBe(201);
    const repeat = await postPayment(pki, edges[1]!.port, { key, body });
    expect(repeat.status).toBe(201);
    expect(repeat.body.equals(first.body)).toBe(true);
    expect(repeat.headers.location).toBe(first.headers.location);
    const resigned = await postPayment(pki, edges[1]!.port, { key, body: signedPayment({ amount: "42.00" }) });
    expect(resigned.body.equals(first.body)).toBe(true);
    const other = await postPayment(pki, edges[1]!.port, { key, body: signedPayment({ amount: "42.01" }) });
    expect([other.status, errorCode(other)]).toEqual([422, "ERRO_IDEMPOTENCIA"]);
    const again = await postPayment(pki, edges[0]!.port, { key, body: signedPayment({ amount: "99.00" }) });
    expect([again.status, errorCode(again)]).toEqual([422, "ERRO_IDEMPOTENCIA"]);
    expect(backend.received.filter((r) => r.headers["x-idempotency-key"] === key)).toHaveLength(1);
    const second = await metrics(1);
    expect(sample(second, 'ofb_edge_idempotency_requests_total{route="payments",outcome="replayed"}')).toBe(2);
    expect(sample(second, 'ofb_edge_idempotency_requests_total{route="payments",outcome="conflict"}')).toBe(1);
    expect(sample(await metrics(0), 'ofb_edge_idempotency_requests_total{route="payments",outcome="first"}')).toBe(1);
  });

  it("of concurrent first requests with one key on both processes, the backend receives one; every answer is its response", async () => {
    const key = randomUUID();
    const body = signedPayment({ amount: "7.00" });
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => postPayment(pki, edges[i % 2]!.port, { key, body })));
    expect(answers.map((a) => a.status)).toEqual(Array(6).fill(201));
    for (const a of answers) expect(a.body.equals(answers[0]!.body)).toBe(true);
    expect(backend.received.filter((r) => r.headers["x-idempotency-key"] === key)).toHaveLength(1);
  });
});

describe("traffic limits across two edge processes sharing Redis", () => {
  const consents = (i: number, client = "participant-a") => get(i, CONSENTS, client);

  it("a participant over its limit through one process is limited on the other: 429 RATE_LIMIT_EXCEEDED with Retry-After, not forwarded; another organisation is not", async () => {
    const statuses = [(await consents(0)).status, (await consents(1)).status, (await consents(0)).status];
    expect(statuses).toEqual(Array(CONSENTS_PER_MINUTE).fill(FORWARDED));
    const before = backend.received.length;
    const limited: TestResponse = await consents(1);
    expect([limited.status, errorCode(limited)]).toEqual([429, "RATE_LIMIT_EXCEEDED"]);
    const retryAfter = Number(limited.headers["retry-after"]);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.json()).toMatchObject({ errors: [{ code: "RATE_LIMIT_EXCEEDED" }], meta: { requestDateTime: expect.any(String) } });
    expect((await consents(0)).status).toBe(429);
    expect(backend.received.length).toBe(before);
    // Counted per organisation: participant-c (another organisation) has its own budget; other families none.
    expect((await consents(1, "participant-c")).status).toBe(FORWARDED);
    expect((await get(0, "/open-banking/resources/v3/resources")).status).toBe(FORWARDED);
    expect(sample(await metrics(1), 'ofb_edge_limited_requests_total{route="open-banking",scope="participant"}')).toBe(1);
    expect(sample(await metrics(0), 'ofb_edge_limited_requests_total{route="open-banking",scope="participant"}')).toBe(1);
  });

  it("over a route's global ceiling, counted on both processes together: 529 SITE_OVERLOADED with Retry-After and the OFB wording, not forwarded", async () => {
    const before = backend.received.filter((r) => r.url.startsWith(ACCOUNTS)).length;
    // Ceiling 2 per second: of 8 requests at once (spread over at most two one-second windows), at most 4 pass.
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => get(i % 2, ACCOUNTS, i % 3 ? "participant-a" : "participant-c")));
    const overloaded = answers.filter((a) => a.status === 529);
    expect(answers.filter((a) => a.status === FORWARDED).length).toBeLessThanOrEqual(4);
    expect(overloaded.length + answers.filter((a) => a.status === FORWARDED).length).toBe(8);
    for (const r of overloaded) {
      expect(errorCode(r)).toBe("SITE_OVERLOADED");
      expect(r.headers["retry-after"]).toBe("1");
      expect(r.json<{ errors: { detail: string }[] }>().errors[0]!.detail).toContain("limite máximo de TPS global");
    }
    expect(backend.received.filter((r) => r.url.startsWith(ACCOUNTS)).length - before).toBe(8 - overloaded.length);
    const global = sample(await metrics(0), 'ofb_edge_limited_requests_total{route="accounts",scope="global"}') + sample(await metrics(1), 'ofb_edge_limited_requests_total{route="accounts",scope="global"}');
    expect(global).toBe(overloaded.length);
  });
});
