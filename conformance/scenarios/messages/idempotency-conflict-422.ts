import { randomUUID } from "node:crypto";
import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "idempotency-conflict-422",
  area: "messages",
  title: "The same x-idempotency-key with another payment body is refused with 422 ERRO_IDEMPOTENCIA in the OFB error format, and not forwarded",
  origin: [
    "OFB payments OpenAPI 4.0.0 (OpenBanking-Brasil/openapi), 422ResponseErrorCreatePixPayments: code ERRO_IDEMPOTENCIA, title 'Erro idempotência.'",
    "draft-ietf-httpapi-idempotency-key-header §2.7: a key reused with a different request payload is an error (422)",
  ],
  requires: ["client", "token"],
  async run(t) {
    const key = randomUUID();
    const token = await t.boundToken("participant-a");
    const send = (amount: string) =>
      t.send({ as: "participant-a", token, path: t.paths.payments, method: "POST", headers: { "content-type": "application/json", "x-idempotency-key": key }, body: JSON.stringify({ data: { payment: { amount, currency: "BRL" } } }) });
    const first = await send("10.00");
    t.check((first.status >= 200 && first.status < 300) || first.status === 422, "the first request is answered by the backend (2xx, or 422 for a business rule)", `${first.status} ${first.text.slice(0, 200)}`);
    const other = await send("10.01");
    await t.expectRejected(other, { status: 422, code: "ERRO_IDEMPOTENCIA" });
    const title = other.json<{ errors: { title: string }[] }>().errors[0]!.title;
    t.equal(title, "Erro idempotência.", "errors[0].title (OFB wording)");
  },
});
