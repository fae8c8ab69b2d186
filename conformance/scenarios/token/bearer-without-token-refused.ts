import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "bearer-without-token-refused",
  area: "token",
  title: "'Authorization: Bearer' with no token after the scheme is refused with 400 invalid_request (TOKEN_REQUEST_INVALID) and nothing is forwarded",
  origin: [
    "RFC 6750 §2.1: credentials = \"Bearer\" 1*SP b64token; §3.1: invalid_request (400) for a malformed request",
    "RFC 6750 §3: a request without an access token that enables access gets a WWW-Authenticate challenge",
  ],
  requires: ["client"],
  async run(t) {
    const res = await t.send({ as: "participant-a", headers: { authorization: "Bearer" } });
    await t.expectRejected(res, { status: 400, code: "TOKEN_REQUEST_INVALID" });
    t.expectBearerChallenge(res, "invalid_request");
  },
});
