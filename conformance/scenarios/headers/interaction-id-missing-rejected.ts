import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "interaction-id-missing-rejected",
  area: "headers",
  title: "On an Open Finance API, a request without x-fapi-interaction-id is refused (400 INTERACTION_ID_INVALID) with a newly generated UUID, and nothing is forwarded",
  origin: [
    "OFB API contract accounts 2.4.2: x-fapi-interaction-id required; if not received, generate one and return it with HTTP 400",
    "OFB Security Profile ID3 item 23 (FAPI-BR v2.1.0 item 18): deny all requests without header x-fapi-interaction-id on FAPI endpoints",
    "docs/architecture.md, decision D1: the /open-banking/ route uses the OFB rule",
  ],
  requires: ["client", "token"],
  async run(t) {
    const res = await t.send({ as: "participant-a", token: await t.boundToken("participant-a"), interactionId: false });
    await t.expectRejected(res, { status: 400, code: "INTERACTION_ID_INVALID" });
  },
});
