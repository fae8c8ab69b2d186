import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "token-in-form-body-refused",
  area: "token",
  title: "A bound access token sent only in a form-encoded request body (access_token=) is refused with 400 invalid_request (TOKEN_REQUEST_INVALID) and nothing is forwarded",
  origin: ["FAPI 1 Part 1 §6.2.1: tokens only in the Authorization header", "RFC 6750 §2.2 form-encoded body parameter; §3.1 invalid_request → 400"],
  requires: ["client", "token"],
  async run(t) {
    const token = await t.boundToken("participant-a");
    const res = await t.send({
      as: "participant-a",
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `access_token=${encodeURIComponent(token)}`,
    });
    await t.expectRejected(res, { status: 400, code: "TOKEN_REQUEST_INVALID" });
    t.expectBearerChallenge(res, "invalid_request");
  },
});
