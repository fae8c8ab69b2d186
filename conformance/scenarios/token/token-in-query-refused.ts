import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "token-in-query-refused",
  area: "token",
  title: "A bound access token sent only in the query string (?access_token=) is refused with 400 invalid_request (TOKEN_REQUEST_INVALID) and nothing is forwarded",
  origin: [
    "OIDF DisallowAccessTokenInQuery: no Authorization header, token in ?access_token= → 400, 401 or 414 (this edge: 400)",
    "FAPI 1 Part 1 §6.2.1: tokens only in the Authorization header; RFC 6750 §2.3 and §3.1 invalid_request → 400",
  ],
  requires: ["client", "token"],
  async run(t) {
    const token = await t.boundToken("participant-a");
    const res = await t.send({ as: "participant-a", path: `${t.paths.accounts}?access_token=${encodeURIComponent(token)}` });
    await t.expectRejected(res, { status: 400, code: "TOKEN_REQUEST_INVALID" });
    t.expectBearerChallenge(res, "invalid_request");
  },
});
