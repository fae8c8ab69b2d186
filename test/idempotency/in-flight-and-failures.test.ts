import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import { connect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";
import { until } from "../helpers/redis.js";
import { errorCode, PIX_PAYMENTS, paymentsRoute, postPayment, signedPayment, startPaymentsBackend } from "./helpers.js";

/**
 * A repeat that arrives while the first request is still in flight, and first requests that end without a response
 * worth storing: what the repeat or the retry gets, and what the backend receives.
 */

let pki: TestPkiManifest;
/** Responses the backend holds until the test releases them, by x-idempotency-key. */
const held = new Map<string, ServerResponse>();
/** Keys whose first request the backend answers by breaking the connection, or with 500, or with a large body. */
const breakFirst = new Set<string>();
const failFirst = new Set<string>();
const largeFor = new Set<string>();
let backend: Awaited<ReturnType<typeof startPaymentsBackend>>;
let patient: Awaited<ReturnType<typeof startTestEdge>>;
let impatient: Awaited<ReturnType<typeof startTestEdge>>;

beforeAll(async () => {
  pki = await testPki();
  backend = await startPaymentsBackend((req, res) => {
    const key = String(req.headers["x-idempotency-key"]);
    if (req.headers["x-hold"] === "yes" && !held.has(key)) {
      held.set(key, res);
      return true;
    }
    if (breakFirst.delete(key)) {
      res.socket?.destroy();
      return true;
    }
    if (failFirst.delete(key)) {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ errors: [{ code: "ERRO_INTERNO", title: "x", detail: "y" }] }));
      return true;
    }
    if (largeFor.has(key)) {
      res.writeHead(201, { "content-type": "application/jwt" });
      res.end("x".repeat(4096));
      return true;
    }
    return false;
  });
  const route = paymentsRoute(backend.url);
  [patient, impatient] = await Promise.all([
    startTestEdge({ pki, upstream: backend.url, routes: [route], idempotency: { maxResponseBytes: 1024 } }),
    startTestEdge({ pki, upstream: backend.url, routes: [route], idempotency: { inFlightWaitMs: 200 } }),
  ]);
});
afterAll(async () => {
  for (const res of held.values()) res.destroy();
  await Promise.all([patient?.close(), impatient?.close()]);
  await backend?.close();
});

const forwardedWith = (key: string) => backend.received.filter((r) => r.headers["x-idempotency-key"] === key);
const release = (key: string) => {
  const res = held.get(key)!;
  res.writeHead(201, { "content-type": "application/jwt", "x-v": "4.0.0" });
  res.end(`released-${key}`);
};
const counter = async (edge: typeof patient, name: string, labels: Record<string, string>) => {
  const metric = await edge.metrics.registry.getSingleMetric(name)?.get();
  return metric?.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0;
};

describe("idempotency: a repeat while the first request is in flight", () => {
  it("waits for the first response and gets it; the backend receives the key once", async () => {
    const key = randomUUID();
    const body = signedPayment({ amount: "5.00" });
    const first = postPayment(pki, patient.port, { key, body, headers: { "x-hold": "yes" } });
    await until(5_000, "the backend holds the first request", async () => held.has(key));
    const repeat = postPayment(pki, patient.port, { key, body, headers: { "x-hold": "yes" } });
    await until(5_000, "the repeat waits at the edge", async () => patient.logs.some((l) => l.kind === "idempotency" && String(l.msg).includes("waits for the first request")));
    release(key);
    const [a, b] = await Promise.all([first, repeat]);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(b.body.toString()).toBe(`released-${key}`);
    expect(forwardedWith(key)).toHaveLength(1);
    expect(await counter(patient, "ofb_edge_idempotency_inflight_waits_total", { result: "replayed" })).toBe(1);
  });

  it("answers 409 IDEMPOTENCY_IN_PROGRESS with Retry-After once idempotency.inFlightWaitMs has passed, without forwarding; a later retry gets the first response", async () => {
    const key = randomUUID();
    const body = signedPayment({ amount: "6.00" });
    const first = postPayment(pki, impatient.port, { key, body, headers: { "x-hold": "yes" } });
    await until(5_000, "the backend holds the first request", async () => held.has(key));
    const repeat = await postPayment(pki, impatient.port, { key, body, headers: { "x-hold": "yes" } });
    expect([repeat.status, errorCode(repeat)]).toEqual([409, "IDEMPOTENCY_IN_PROGRESS"]);
    expect(repeat.headers["retry-after"]).toBe("1");
    expect(forwardedWith(key)).toHaveLength(1);
    release(key);
    expect((await first).status).toBe(201);
    const later = await postPayment(pki, impatient.port, { key, body });
    expect(later.body.toString()).toBe(`released-${key}`);
    expect(forwardedWith(key)).toHaveLength(1);
  });
});

describe("idempotency: a first request without a response worth storing frees its key", () => {
  it("the backend breaks the connection (502): the retry is forwarded, and its response stored", async () => {
    const key = randomUUID();
    breakFirst.add(key);
    const body = signedPayment({ amount: "7.00" });
    const first = await postPayment(pki, patient.port, { key, body });
    expect([first.status, errorCode(first)]).toEqual([502, "UPSTREAM_UNAVAILABLE"]);
    const retry = await postPayment(pki, patient.port, { key, body });
    expect(retry.status).toBe(201);
    const third = await postPayment(pki, patient.port, { key, body });
    expect(third.body.equals(retry.body)).toBe(true);
    expect(forwardedWith(key)).toHaveLength(2);
  });

  it("the backend answers 500 (not in storeStatuses): the retry is forwarded", async () => {
    const key = randomUUID();
    failFirst.add(key);
    const body = signedPayment({ amount: "8.00" });
    expect((await postPayment(pki, patient.port, { key, body })).status).toBe(500);
    expect((await postPayment(pki, patient.port, { key, body })).status).toBe(201);
    expect(forwardedWith(key)).toHaveLength(2);
    expect(await counter(patient, "ofb_edge_idempotency_responses_total", { result: "status" })).toBeGreaterThanOrEqual(1);
  });

  it("the client goes away before the backend answers: the key is freed, and the retry is forwarded", async () => {
    const key = randomUUID();
    const body = signedPayment({ amount: "9.00" });
    const { cert, key: tlsKey } = clientCredentials(pki, "participant-a");
    const interactionId = randomUUID();
    // A reset, as from a client that crashed: TCP underneath TLS, so that it can be reset. (A client that only
    // half-closes, FIN, is still answered: HTTP/1.1 lets a client shut its sending side and wait.)
    const tcp = connect(patient.port, "127.0.0.1");
    const tls = tlsConnect({ socket: tcp, servername: "localhost", ca: readFileSync(pki.trustAnchors), cert, key: tlsKey });
    tls.on("error", () => undefined);
    tcp.on("error", () => undefined);
    await new Promise<void>((resolve) => tls.once("secureConnect", () => resolve()));
    tls.write(
      `POST ${PIX_PAYMENTS} HTTP/1.1\r\nHost: localhost\r\ncontent-type: application/jwt\r\nx-idempotency-key: ${key}\r\nx-hold: yes\r\nx-fapi-interaction-id: ${interactionId}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    await until(5_000, "the backend holds the first request", async () => held.has(key));
    tcp.resetAndDestroy();
    await until(5_000, "the edge logs the first request as closed by the client", async () => patient.logs.some((l) => l.kind === "access" && l.interactionId === interactionId && l.code === "CLIENT_CLOSED_REQUEST"));
    const retry = await postPayment(pki, patient.port, { key, body });
    expect(retry.status).toBe(201);
    expect(forwardedWith(key)).toHaveLength(2);
  });

  it("a response larger than idempotency.maxResponseBytes is not stored (logged and counted): the retry is forwarded", async () => {
    const key = randomUUID();
    largeFor.add(key);
    const body = signedPayment({ amount: "11.00" });
    expect((await postPayment(pki, patient.port, { key, body })).body.length).toBe(4096);
    expect((await postPayment(pki, patient.port, { key, body })).body.length).toBe(4096);
    expect(forwardedWith(key)).toHaveLength(2);
    expect(patient.logs.some((l) => l.kind === "idempotency" && l.bytes === 4096 && l.maxResponseBytes === 1024)).toBe(true);
    expect(await counter(patient, "ofb_edge_idempotency_responses_total", { result: "too-large" })).toBe(2);
  });
});
