import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "wrong-issuer-refused",
  area: "token",
  title: "A correctly signed, bound access token naming another issuer (iss) is refused with 401 invalid_token (TOKEN_ISSUER_INVALID) and nothing is forwarded",
  origin: ["RFC 6750 §3.1: invalid_token (401) for an invalid access token", "OFB Security Profile ID3 data sharing: an invalid token gets 401"],
  requires: ["client", "token-issuer"],
  async run(t) {
    const token = await t.issuer.jwt({ thumbprint: t.client("participant-a").thumbprint, claims: { iss: "https://issuer.invalid/conformance" } });
    const res = await t.send({ as: "participant-a", token });
    await t.expectRejected(res, { status: 401, code: "TOKEN_ISSUER_INVALID" });
    t.expectBearerChallenge(res, "invalid_token");
  },
});
