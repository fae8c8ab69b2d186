import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "two-token-methods-refused",
  area: "token",
  title: "A bound access token sent both in the Authorization header and in the query string is refused with 400 invalid_request (TOKEN_REQUEST_INVALID) and nothing is forwarded",
  origin: ["RFC 6750 §3.1: invalid_request (400) when the request uses more than one method for including an access token", "FAPI 1 Part 1 §6.2.1: tokens only in the Authorization header"],
  requires: ["client", "token"],
  async run(t) {
    const token = await t.boundToken("participant-a");
    const res = await t.send({ as: "participant-a", token, path: `${t.paths.accounts}?access_token=${encodeURIComponent(token)}` });
    await t.expectRejected(res, { status: 400, code: "TOKEN_REQUEST_INVALID" });
    t.expectBearerChallenge(res, "invalid_request");
  },
});
