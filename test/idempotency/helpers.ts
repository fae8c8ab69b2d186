import { randomBytes, randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend, type RecordedRequest } from "../helpers/backend.js";
import { httpsRequest, type TestResponse } from "../helpers/client.js";
import { clientCredentials } from "../helpers/edge.js";

/** A payment initiation path of the OFB payments API (an operation that requires x-idempotency-key). */
export const PIX_PAYMENTS = "/open-banking/payments/v4/pix/payments";

/** The payments route as the tests configure it: mTLS required, idempotency enforced. */
export function paymentsRoute(upstream: string, extra: Record<string, unknown> = {}) {
  return { name: "payments", pathPrefix: "/open-banking/payments/", upstream, mtls: "required" as const, idempotency: "enforce" as const, ...extra };
}

/**
 * A backend that creates a "payment" per request it receives: 201, `application/jwt`, a Location and an x-v, and a
 * body unique to the request (a counter and random bytes), so that a replay is recognisable byte for byte.
 */
export async function startPaymentsBackend(answer?: (req: RecordedRequest, res: ServerResponse, n: number) => boolean) {
  let n = 0;
  return startRecordingBackend((req, res) => {
    n++;
    if (answer?.(req, res, n)) return;
    const body = `payment-${n}.${randomBytes(24).toString("base64url")}`;
    res.writeHead(201, { "content-type": "application/jwt", location: `/open-banking/payments/v4/pix/payments/${n}`, "x-v": "4.0.0", "set-cookie": "s=1", "x-backend-only": "yes" });
    res.end(body);
  });
}

/** A compact JWS with `claims` as payload (unsigned for the edge's purposes: idempotency reads, never verifies). */
export function jws(claims: Record<string, unknown>): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  return `${part({ alg: "PS256", kid: "k1" })}.${part(claims)}.${randomBytes(32).toString("base64url")}`;
}

/** A signed payment body as a TPP signs it: a fresh jti and iat around the same `data`. */
export function signedPayment(data: Record<string, unknown>, iat = Math.floor(Date.now() / 1000)): string {
  return jws({ aud: `https://bank.example${PIX_PAYMENTS}`, iss: "org", iat, jti: randomUUID(), data });
}

/** POSTs a payment as `client` with `key` (null: no x-idempotency-key). */
export function postPayment(pki: TestPkiManifest, port: number, o: { key: string | null; body?: string; client?: string; path?: string; method?: string; headers?: Record<string, string> }): Promise<TestResponse> {
  return httpsRequest({
    pki,
    port,
    credentials: clientCredentials(pki, o.client ?? "participant-a"),
    path: o.path ?? PIX_PAYMENTS,
    method: o.method ?? "POST",
    headers: { "content-type": "application/jwt", ...(o.key === null ? {} : { "x-idempotency-key": o.key }), ...o.headers },
    body: o.body ?? signedPayment({ amount: "10.00" }),
  });
}

/** The OFB error code of a response. */
export const errorCode = (r: TestResponse) => r.json<{ errors: { code: string }[] }>().errors[0]!.code;
