import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startTestEdge, testPki } from "../helpers/edge.js";
import { errorCode, PIX_PAYMENTS, paymentsRoute, postPayment, signedPayment, startPaymentsBackend } from "./helpers.js";

/**
 * The idempotency stage on a real edge (memory store) in front of a real backend: what a first request, a repeat, a
 * conflicting repeat and a request without a key get, and what the backend receives for each.
 */

let pki: TestPkiManifest;
let backend: Awaited<ReturnType<typeof startPaymentsBackend>>;
let edge: Awaited<ReturnType<typeof startTestEdge>>;

beforeAll(async () => {
  pki = await testPki();
  backend = await startPaymentsBackend((req, res) => {
    // A business refusal (OFB 422) is a final answer too: stored and replayed.
    if (req.url.endsWith("/consents")) {
      res.writeHead(422, { "content-type": "application/json; charset=utf-8" });
      res.end(JSON.stringify({ errors: [{ code: "FORMA_PAGAMENTO_INVALIDA", title: "Forma de pagamento inválida.", detail: `n=${Math.random()}` }], meta: { requestDateTime: "2026-01-01T00:00:00Z" } }));
      return true;
    }
    return false;
  });
  edge = await startTestEdge({ pki, upstream: backend.url, routes: [paymentsRoute(backend.url)], idempotency: {} });
});
afterAll(async () => {
  await edge?.close();
  await backend?.close();
});

const forwardedWith = (key: string) => backend.received.filter((r) => r.headers["x-idempotency-key"] === key);

describe("idempotency: x-idempotency-key on a payment initiation", () => {
  it("forwards the first request; a repeat with the same key and body gets the stored status, header fields and body bytes, and the backend receives nothing", async () => {
    const key = randomUUID();
    const body = signedPayment({ amount: "10.00", creditor: "a" });
    const first = await postPayment(pki, edge.port, { key, body });
    expect(first.status).toBe(201);
    const again = await postPayment(pki, edge.port, { key, body });
    expect(again.status).toBe(201);
    expect(again.body.equals(first.body)).toBe(true);
    for (const name of ["content-type", "location", "x-v"]) expect(again.headers[name], name).toBe(first.headers[name]);
    // The repeat's own interaction id; never the first exchange's cookie or a field outside idempotency.storedHeaders.
    expect(again.headers["x-fapi-interaction-id"]).not.toBe(first.headers["x-fapi-interaction-id"]);
    expect(first.headers["set-cookie"]).toBeDefined();
    expect(again.headers["set-cookie"]).toBeUndefined();
    expect(again.headers["x-backend-only"]).toBeUndefined();
    expect(forwardedWith(key)).toHaveLength(1);
    const lines = edge.logs.filter((l) => l.kind === "access" && l.path === PIX_PAYMENTS && l.status === 201).slice(-2);
    expect(lines.map((l) => [l.decision, l.idempotency])).toEqual([
      ["forwarded", "first"],
      ["replayed", "replayed"],
    ]);
  });

  it("replays a retry that the TPP signed again (new jti and iat, same data)", async () => {
    const key = randomUUID();
    const data = { amount: "25.00", creditor: { name: "Maria", cpf: "12345678900" } };
    const first = await postPayment(pki, edge.port, { key, body: signedPayment(data, 1_700_000_000) });
    const retry = await postPayment(pki, edge.port, { key, body: signedPayment({ creditor: { cpf: "12345678900", name: "Maria" }, amount: "25.00" }, 1_700_000_030) });
    expect(retry.status).toBe(201);
    expect(retry.body.equals(first.body)).toBe(true);
    expect(forwardedWith(key)).toHaveLength(1);
  });

  it("answers the same key with another body 422 ERRO_IDEMPOTENCIA in the OFB wording, and forwards nothing", async () => {
    const key = randomUUID();
    expect((await postPayment(pki, edge.port, { key, body: signedPayment({ amount: "10.00" }) })).status).toBe(201);
    const other = await postPayment(pki, edge.port, { key, body: signedPayment({ amount: "10.01" }) });
    expect(other.status).toBe(422);
    expect(other.json()).toMatchObject({
      errors: [{ code: "ERRO_IDEMPOTENCIA", title: "Erro idempotência.", detail: "Conteúdo da mensagem (claim data) diverge do conteúdo associado a esta chave de idempotência (x-idempotency-key)." }],
    });
    expect(other.headers["content-type"]).toBe("application/json; charset=utf-8");
    // Another endpoint under the same key is another request too.
    const elsewhere = await postPayment(pki, edge.port, { key, path: "/open-banking/payments/v4/consents", body: signedPayment({ amount: "10.00" }) });
    expect(errorCode(elsewhere)).toBe("ERRO_IDEMPOTENCIA");
    expect(forwardedWith(key)).toHaveLength(1);
  });

  it("keeps keys per organisation: another participant's request with the same key is its own first request", async () => {
    const key = randomUUID();
    const body = signedPayment({ amount: "1.00" });
    const a = await postPayment(pki, edge.port, { key, body, client: "participant-a" });
    const c = await postPayment(pki, edge.port, { key, body, client: "participant-c" });
    expect([a.status, c.status]).toEqual([201, 201]);
    expect(c.body.equals(a.body)).toBe(false);
    expect(forwardedWith(key)).toHaveLength(2);
  });

  it("refuses a payment without x-idempotency-key, or with a malformed one, with 400 and forwards nothing", async () => {
    const before = backend.received.length;
    const missing = await postPayment(pki, edge.port, { key: null });
    expect([missing.status, errorCode(missing)]).toEqual([400, "IDEMPOTENCY_KEY_MISSING"]);
    // (Leading and trailing white space never reaches the edge: HTTP strips it from field values, RFC 9110 §5.5.)
    for (const key of ["k".repeat(41), "tab\tinside", "chave-\u00e7"]) {
      const bad = await postPayment(pki, edge.port, { key });
      expect([bad.status, errorCode(bad)], JSON.stringify(key)).toEqual([400, "IDEMPOTENCY_KEY_INVALID"]);
    }
    const twice = await postPayment(pki, edge.port, { key: null, headers: { "x-idempotency-key": ["a", "b"] as unknown as string } });
    expect([twice.status, errorCode(twice)]).toEqual([400, "IDEMPOTENCY_KEY_INVALID"]);
    expect(backend.received.length).toBe(before);
  });

  it("leaves the operations the OFB table does not list alone: a GET, and PATCH /pix/payments/{paymentId} (no x-idempotency-key in payments 4.0.0)", async () => {
    const before = backend.received.length;
    expect((await postPayment(pki, edge.port, { key: null, method: "GET", body: "" })).status).toBe(201);
    expect((await postPayment(pki, edge.port, { key: null, method: "PATCH", path: `${PIX_PAYMENTS}/${randomUUID()}` })).status).toBe(201);
    expect(backend.received.length).toBe(before + 2);
  });

  it("stores a business refusal (422 from the backend) and replays it", async () => {
    const key = randomUUID();
    const path = "/open-banking/payments/v4/consents";
    const first = await postPayment(pki, edge.port, { key, path });
    expect(first.status).toBe(422);
    const again = await postPayment(pki, edge.port, { key, path, body: undefined });
    // A new signature (the helper signs anew) over the same data: the stored 422.
    expect(again.status).toBe(422);
    expect(again.body.equals(first.body)).toBe(true);
    expect(forwardedWith(key)).toHaveLength(1);
  });
});
