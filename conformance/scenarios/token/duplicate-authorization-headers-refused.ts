import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "duplicate-authorization-headers-refused",
  area: "token",
  title: "Two Authorization header fields each carrying the bound token are refused with 400 invalid_request (TOKEN_REQUEST_INVALID) and nothing is forwarded",
  origin: [
    "RFC 6750 §3.1: invalid_request (400) when the request repeats a parameter or uses more than one method for including an access token",
    "RFC 6750 §3: a request without an access token that enables access gets a WWW-Authenticate challenge",
  ],
  requires: ["client", "token"],
  async run(t) {
    const token = await t.boundToken("participant-a");
    const res = await t.send({ as: "participant-a", headers: { authorization: [`Bearer ${token}`, `Bearer ${token}`] } });
    await t.expectRejected(res, { status: 400, code: "TOKEN_REQUEST_INVALID" });
    t.expectBearerChallenge(res, "invalid_request");
  },
});
