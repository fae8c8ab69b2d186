import { randomUUID } from "node:crypto";
import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "idempotency-replay-byte-identical",
  area: "messages",
  title: "A payment initiation repeated with the same x-idempotency-key and the same body gets the first answer byte for byte (status, content type, body) with its own interaction id, and the backend receives it once",
  origin: [
    "OFB payments OpenAPI 4.0.0 (OpenBanking-Brasil/openapi), POST /pix/payments and POST /consents: header x-idempotency-key required; a repeat gets the result obtained before",
    "draft-ietf-httpapi-idempotency-key-header §2.6: a repeated request with the same key returns the stored response",
    "FAPI 1.0 Part 1 §6.2.1 item 11: the response carries the request's x-fapi-interaction-id",
  ],
  requires: ["client", "token", "recorder"],
  async run(t) {
    const key = randomUUID();
    const token = await t.boundToken("participant-a");
    // A JSON body, so that the recording backend's answer (which lists the headers it received, the probe id among
    // them) differs per request it receives: a byte-identical repeat can only be the stored answer.
    const body = JSON.stringify({ data: { payment: { amount: "10.00", currency: "BRL" }, nonce: randomUUID() } });
    const send = () => t.send({ as: "participant-a", token, path: t.paths.payments, method: "POST", headers: { "content-type": "application/json", "x-idempotency-key": key }, body });
    const first = await send();
    t.check((first.status >= 200 && first.status < 300) || first.status === 422, "the first request is answered by the backend (2xx, or 422 for a business rule)", `${first.status} ${first.text.slice(0, 200)}`);
    await t.forwarded(first);
    const repeat = await send();
    t.equal(repeat.status, first.status, "the repeat's status");
    t.equal(repeat.headers["content-type"], first.headers["content-type"], "the repeat's Content-Type");
    t.check(repeat.body.equals(first.body), "the repeat's body is byte-identical to the first answer's", repeat.text.slice(0, 200));
    t.expectInteractionId(repeat, { echoed: true });
    await t.expectNotForwarded(repeat);
  },
});
