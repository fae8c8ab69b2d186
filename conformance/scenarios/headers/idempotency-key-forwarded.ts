import { randomUUID } from "node:crypto";
import { headerValues } from "../../../src/conformance/context.js";
import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "idempotency-key-forwarded",
  area: "headers",
  title: "The x-idempotency-key of a payment initiation reaches the backend once and unchanged, so the bank can refuse a replayed payment",
  origin: [
    "OFB OpenAPI payments 4.0.0: x-idempotency-key request header on payments POST",
    "OIDF OFB pre-authorization steps (OpenBankingBrazilPreAuthorizationSteps): payments consent POST carries x-idempotency-key → 201",
  ],
  requires: ["client", "token", "recorder"],
  async run(t) {
    const key = randomUUID();
    const res = await t.send({
      as: "participant-a",
      token: await t.boundToken("participant-a"),
      path: t.paths.payments,
      method: "POST",
      headers: { "content-type": "application/jwt", "x-idempotency-key": key },
      body: "eyJhbGciOiJQUzI1NiJ9.eyJkYXRhIjp7fX0.c2lnbmF0dXJl",
    });
    t.expectStatus(res, 200);
    const got = headerValues(await t.forwarded(res), "x-idempotency-key");
    t.check(got.length === 1 && got[0] === key, "the backend received x-idempotency-key once, unchanged", got);
  },
});
