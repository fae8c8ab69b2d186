import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "introspection-inactive-refused",
  area: "token",
  title: "An opaque access token that introspects as inactive is refused with 401 invalid_token (TOKEN_INACTIVE) and nothing is forwarded",
  origin: ["RFC 7662 §2.2: active false for an inactive, revoked or unknown token; only active true is a grant", "RFC 6750 §3.1: invalid_token (401) for an expired or revoked access token"],
  requires: ["client", "introspection"],
  async run(t) {
    const token = t.opaqueToken({ active: false });
    const res = await t.send({ as: "participant-a", token });
    await t.expectRejected(res, { status: 401, code: "TOKEN_INACTIVE" });
    t.expectBearerChallenge(res, "invalid_token");
  },
});
