import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { httpsRequest } from "../helpers/client.js";
import { clientCredentials, testPki } from "../helpers/edge.js";
import { spawnEdge, type SpawnedEdge } from "../helpers/serve-process.js";
import { errorCode, paymentsRoute, postPayment, signedPayment, startPaymentsBackend } from "../idempotency/helpers.js";

/**
 * `workers: 2` with the memory stores: the cluster primary holds the idempotency keys and the traffic counters for
 * both workers, so a repeat or a participant's next request that lands on the other worker is recognised. Each
 * request opens its own connection; the workers share the listener, so they land on both (the access lines say
 * which worker answered).
 */

const CONSENTS = "/open-banking/consents/v3/consents";
const PER_MINUTE = 6;
const FORWARDED = 201;

let pki: TestPkiManifest;
let backend: Awaited<ReturnType<typeof startPaymentsBackend>>;
let edge: SpawnedEdge;

beforeAll(async () => {
  pki = await testPki();
  backend = await startPaymentsBackend();
  edge = await spawnEdge({
    listeners: [{ name: "edge", host: "127.0.0.1", port: 0, mode: "permissive", tls: { cert: pki.server.cert, key: pki.server.key, trustAnchors: [pki.trustAnchors] } }],
    policy: { transportRoots: [pki.ca.root.cert] },
    routes: [paymentsRoute(backend.url), { name: "open-banking", pathPrefix: "/open-banking/", upstream: backend.url, mtls: "required" }],
    idempotency: {},
    limits: { families: { consents: { organisation: { perMinute: PER_MINUTE } } } },
    revocation: { mode: "off" },
    workers: 2,
  });
  expect(edge.workers).toHaveLength(2);
}, 60_000);

afterAll(async () => {
  await edge?.stop();
  await edge?.cleanup();
  await backend?.close();
});

/** The pids of the workers whose access lines name `path`. */
const answeredBy = (path: string) => new Set(edge.logs().filter((l) => l.kind === "access" && typeof l.path === "string" && l.path.startsWith(path)).map((l) => l.worker));

describe("memory stores shared by two workers through the cluster primary", () => {
  it("a repeat is replayed and a conflicting body refused whichever worker answers; the backend receives the key once", async () => {
    const key = randomUUID();
    const body = signedPayment({ amount: "3.00" });
    const answers = [];
    for (let i = 0; i < 8; i++) answers.push(await postPayment(pki, edge.port, { key, body }));
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(201));
    for (const a of answers) expect(a.body.equals(answers[0]!.body)).toBe(true);
    const other = await postPayment(pki, edge.port, { key, body: signedPayment({ amount: "3.01" }) });
    expect([other.status, errorCode(other)]).toEqual([422, "ERRO_IDEMPOTENCIA"]);
    expect(backend.received.filter((r) => r.headers["x-idempotency-key"] === key)).toHaveLength(1);
    await expect.poll(() => answeredBy("/open-banking/payments/").size).toBe(2);
  });

  it("a participant's requests are counted together by both workers: the one over its limit gets 429 and is not forwarded", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < PER_MINUTE + 2; i++) statuses.push((await httpsRequest({ pki, port: edge.port, credentials: clientCredentials(pki, "participant-a"), path: CONSENTS })).status);
    expect(statuses).toEqual([...Array(PER_MINUTE).fill(FORWARDED), 429, 429]);
    expect(backend.received.filter((r) => r.url.startsWith(CONSENTS))).toHaveLength(PER_MINUTE);
    await expect.poll(() => answeredBy(CONSENTS).size).toBe(2);
  });
});
