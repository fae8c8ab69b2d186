import { scenario } from "../../../src/conformance/scenario.js";
import { jwsParts } from "../../lib/jwt.js";

export default scenario({
  id: "alg-none-refused",
  area: "token",
  title: "A genuine bound access token re-sent unsigned (header alg none, empty signature) is refused with 401 invalid_token (TOKEN_ALGORITHM_NOT_ALLOWED) and nothing is forwarded",
  origin: ["RFC 6750 §3.1: invalid_token (401) for a malformed or invalid access token", "OFB Security Profile ID3 data sharing: an invalid token gets 401"],
  requires: ["client", "token"],
  async run(t) {
    const genuine = await t.boundToken("participant-a");
    const { payload } = jwsParts(t, genuine);
    const none = Buffer.from(JSON.stringify({ alg: "none" })).toString("base64url");
    const res = await t.send({ as: "participant-a", token: `${none}.${payload}.` });
    await t.expectRejected(res, { status: 401, code: "TOKEN_ALGORITHM_NOT_ALLOWED" });
    t.expectBearerChallenge(res, "invalid_token");
  },
});
