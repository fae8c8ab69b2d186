import { randomUUID } from "node:crypto";
import { compactVerify, decodeProtectedHeader, importJWK } from "jose";
import type { Exchange, ScenarioContext } from "../../src/conformance/context.js";
import type { TestMessageOptions, TestMessageSigner } from "../../src/pki/test-pki/index.js";

// Shared by the signed-message scenarios (conformance/scenarios/messages).

/** participant-a's message signer (capability `message-signer`). */
export function signer(t: ScenarioContext): TestMessageSigner {
  const s = t.messages.signer;
  if (!s) t.skipScenario("no message signing key for participant-a (capability message-signer)");
  return s;
}

/** A message to the signed route as participant-a signs it, with `overrides` (a wrong `aud`, an old `iat`, …). */
export function sign(t: ScenarioContext, overrides: Partial<TestMessageOptions> = {}): Promise<string> {
  return signer(t).sign({ aud: t.messages.audience(t.messages.path), payload: { data: { consentId: `urn:conformance:${randomUUID()}` } }, ...overrides });
}

/** POSTs `jws` to the signed route with participant-a's certificate and bound token. */
export async function post(t: ScenarioContext, jws: string): Promise<Exchange> {
  return t.send({
    as: "participant-a",
    token: await t.boundToken("participant-a"),
    path: t.messages.path,
    method: "POST",
    // The idempotency key the payments APIs require of a POST (payments 4.0.0): its checks come after the signature's.
    headers: { "content-type": "application/jwt", "x-idempotency-key": randomUUID() },
    body: jws,
  });
}

/**
 * The claims of a signed response (`Content-Type: application/jwt`): verified with the bank's published key when
 * the suite has it (capability `bank-keys`), decoded otherwise (noted).
 */
export async function responseClaims(t: ScenarioContext, res: Exchange): Promise<Record<string, unknown>> {
  t.check(/^application\/jwt\b/i.test(res.headers["content-type"] ?? ""), "the response is a signed message (Content-Type application/jwt)", res.headers["content-type"]);
  const jws = res.text.trim();
  const parts = jws.split(".");
  t.check(parts.length === 3 && parts.every((p) => /^[\w-]+$/.test(p)), "the body is a compact JWS (RFC 7515 §7.1)", jws.slice(0, 120));
  const bank = t.messages.bank;
  if (!bank) {
    t.note("the bank's published keys were not given (--bank-jwks): the response signature was decoded, not verified");
    return JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8")) as Record<string, unknown>;
  }
  const header = decodeProtectedHeader(jws);
  t.equal(header.alg, "PS256", "the response's alg");
  const jwk = bank.keys.find((k) => k.kid === header.kid);
  if (!jwk) t.fail("the response's kid is a key the bank publishes in its application.jwks", header.kid);
  t.check(true, "the response's kid is a key the bank publishes in its application.jwks");
  const { payload } = await compactVerify(jws, await importJWK(jwk, "PS256"), { algorithms: ["PS256"] }).catch((err: Error) => t.fail("the response signature verifies with the bank's published key", err.message));
  t.check(true, "the response signature verifies with the bank's published key");
  const claims = JSON.parse(Buffer.from(payload).toString("utf8")) as Record<string, unknown>;
  t.equal(claims.iss, bank.organisationId, "the response's iss (the bank's organisation id)");
  return claims;
}

/**
 * The refusal of a signed request: `status` with the payments API's `code` (`BAD_SIGNATURE`, `INVALID_CLIENT`) as
 * `errors[0].code` — a signed error addressed to participant-a, or the plain OFB error on a route that does not sign
 * — and nothing forwarded.
 */
export async function expectRefused(t: ScenarioContext, res: Exchange, status: number, code: string): Promise<void> {
  if (!/^application\/jwt\b/i.test(res.headers["content-type"] ?? "")) {
    await t.expectRejected(res, { status, code });
    return;
  }
  t.expectStatus(res, status);
  const claims = await responseClaims(t, res);
  t.equal(claims.aud, t.client("participant-a").organisationId, "the signed error's aud (the calling organisation)");
  const errors = claims.errors as { code?: unknown }[] | undefined;
  t.check(Array.isArray(errors) && errors.length >= 1, "the signed error carries errors[]", claims);
  t.equal(errors![0]!.code, code, "errors[0].code");
  t.check(typeof (claims.meta as { requestDateTime?: unknown } | undefined)?.requestDateTime === "string", "meta.requestDateTime is present", claims.meta);
  t.expectInteractionId(res);
  await t.expectNotForwarded(res);
}
