import { randomInt, randomUUID } from "node:crypto";
import { headerValues } from "../../../src/conformance/context.js";
import { scenario } from "../../../src/conformance/scenario.js";

/** A UUID with hex letters upper-cased at random, at least one of each case (as OIDF CreateRandomFAPIInteractionId sends it). */
function mixedCaseUuid(): string {
  for (;;) {
    const id = [...randomUUID()].map((ch) => (randomInt(2) === 1 ? ch.toUpperCase() : ch)).join("");
    if (/[a-f]/.test(id) && /[A-F]/.test(id)) return id;
  }
}

export default scenario({
  id: "interaction-id-echoed-verbatim",
  area: "headers",
  title: "A mixed-case x-fapi-interaction-id is returned exactly as sent, on a served request and on an edge rejection, and reaches the backend unchanged",
  origin: [
    "FAPI 1 Part 1 §6.2.1: the response x-fapi-interaction-id is the value the client sent",
    "OIDF conformance suite: CreateRandomFAPIInteractionId (random upper-case hex) and EnsureMatchingFAPIInteractionId (fapi1-advanced-final resource steps)",
    "OIDF conformance suite CreateRandomFAPIInteractionId (random upper-case hex on purpose) and EnsureMatchingFAPIInteractionId: echo the received value verbatim rather than normalising case",
    "OFB API contract accounts 2.4.2: x-fapi-interaction-id mirrored in the response",
  ],
  requires: ["client", "token"],
  async run(t) {
    const served = mixedCaseUuid();
    const ok = await t.send({ as: "participant-a", token: await t.boundToken("participant-a"), interactionId: served });
    t.expectStatus(ok, 200);
    t.expectInteractionId(ok, { echoed: true });
    if (t.has("recorder")) {
      const got = await t.forwarded(ok);
      t.check(JSON.stringify(headerValues(got, "x-fapi-interaction-id")) === JSON.stringify([served]), "the backend received the interaction id once, byte for byte", headerValues(got, "x-fapi-interaction-id"));
    }

    const rejectedId = mixedCaseUuid();
    const rejected = await t.send({ as: "participant-a", interactionId: rejectedId });
    await t.expectRejected(rejected, { status: 401, code: "TOKEN_MISSING" });
    t.expectInteractionId(rejected, { echoed: true });
  },
});
