import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "idempotency-key-missing-rejected",
  area: "messages",
  title: "A payment initiation without x-idempotency-key is refused with 400 in the OFB error format, and not forwarded",
  origin: ["OFB payments OpenAPI 4.0.0 (OpenBanking-Brasil/openapi), POST /pix/payments: parameter x-idempotency-key required: true, 1 to 40 characters"],
  requires: ["client", "token"],
  async run(t) {
    const res = await t.send({
      as: "participant-a",
      token: await t.boundToken("participant-a"),
      path: t.paths.payments,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ data: { payment: { amount: "10.00", currency: "BRL" } } }),
    });
    await t.expectRejected(res, { status: 400, code: "IDEMPOTENCY_KEY_MISSING" });
  },
});
