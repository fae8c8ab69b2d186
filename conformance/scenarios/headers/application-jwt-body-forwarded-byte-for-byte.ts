import { randomBytes, randomUUID } from "node:crypto";
import { headerValues } from "../../../src/conformance/context.js";
import { scenario } from "../../../src/conformance/scenario.js";

/** A compact JWS shape: base64url(header).base64url(payload).base64url(signature bytes) — the edge must not care what it says. */
function compactJws(): Buffer {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v), "utf8").toString("base64url");
  const header = part({ alg: "PS256", typ: "JWT", kid: randomUUID() });
  const payload = part({
    aud: "https://bank.example/open-banking/payments/v4/pix/payments",
    iss: randomUUID(),
    jti: randomUUID(),
    iat: Math.floor(Date.now() / 1000),
    data: { localInstrument: "DICT", payment: { amount: "100.00", currency: "BRL" }, remittanceInformation: "Pagamento – São Paulo" },
  });
  return Buffer.from(`${header}.${payload}.${randomBytes(256).toString("base64url")}`, "ascii");
}

export default scenario({
  id: "application-jwt-body-forwarded-byte-for-byte",
  area: "headers",
  title: "A signed payment request (Content-Type application/jwt, a compact JWS body) reaches the backend byte for byte, and the backend's signed response reaches the client byte for byte",
  origin: [
    "OFB OpenAPI payments 4.0.0 (OpenBanking-Brasil/openapi swagger-apis/payments/4.0.0.yml): payments request and response bodies are JWS with Content-Type application/jwt, not JSON; do not parse them",
    "OIDF conformance suite: fapi1-advanced-final-brazil-ensure-bad-payment-signature-fails — the signature is the backend's to check (400 BAD_SIGNATURE), so the signed bytes must arrive intact",
    "OFB Security Profile ID3: JWS errors → 400 BAD_SIGNATURE (a signature over altered bytes would fail)",
  ],
  requires: ["client", "token", "recorder"],
  async run(t) {
    const body = compactJws();
    const res = await t.send({
      as: "participant-a",
      token: await t.boundToken("participant-a"),
      path: t.paths.payments,
      method: "POST",
      headers: { "content-type": "application/jwt", "x-idempotency-key": randomUUID() },
      body,
    });
    t.expectStatus(res, 200);
    const got = await t.forwarded(res);
    t.equal(got.method, "POST", "the backend's request method");
    t.check(JSON.stringify(headerValues(got, "content-type")) === JSON.stringify(["application/jwt"]), "the backend received Content-Type application/jwt, once", headerValues(got, "content-type"));
    t.check(Buffer.from(got.body, "base64").equals(body), "the backend received the JWS body byte for byte", Buffer.from(got.body, "base64").toString("latin1").slice(0, 120));
    t.check(/^application\/jwt\b/i.test(res.headers["content-type"] ?? ""), "the client received Content-Type application/jwt", res.headers["content-type"]);
    t.check(res.body.equals(body), "the client received the signed response body byte for byte", res.text.slice(0, 120));
  },
});
