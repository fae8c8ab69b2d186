import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "not-yet-valid-token-refused",
  area: "token",
  title: "A bound access token whose nbf is ten minutes in the future is refused with 401 invalid_token (TOKEN_NOT_YET_VALID) and nothing is forwarded",
  origin: ["RFC 6750 §3.1: invalid_token (401) for an access token that is not valid", "OFB Security Profile ID3 data sharing: an invalid token gets 401"],
  requires: ["client", "token-issuer"],
  async run(t) {
    const nbf = Math.floor(Date.now() / 1000) + 600;
    const token = await t.issuer.jwt({ thumbprint: t.client("participant-a").thumbprint, claims: { nbf }, lifetimeSeconds: 900 });
    const res = await t.send({ as: "participant-a", token });
    await t.expectRejected(res, { status: 401, code: "TOKEN_NOT_YET_VALID" });
    t.expectBearerChallenge(res, "invalid_token");
  },
});
