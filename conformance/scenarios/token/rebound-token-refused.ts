import { scenario } from "../../../src/conformance/scenario.js";
import { jwsParts } from "../../lib/jwt.js";

export default scenario({
  id: "rebound-token-refused",
  area: "token",
  title: "Another participant's genuine token whose cnf was rewritten to the presenter's certificate (signature kept) is refused with 401 invalid_token (TOKEN_SIGNATURE_INVALID) and nothing is forwarded",
  origin: [
    "RFC 8705 §3: the binding is only as good as the verified token that carries it",
    "RFC 6750 §3.1: invalid_token (401) for an invalid access token",
    "OFB Security Profile ID3 data sharing: an invalid token gets 401",
  ],
  requires: ["client", "token", "second-client"],
  async run(t) {
    const genuine = await t.boundToken("participant-b");
    const { header, payload, signature } = jwsParts(t, genuine);
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
    claims.cnf = { "x5t#S256": t.client("participant-a").thumbprint };
    const rebound = Buffer.from(JSON.stringify(claims)).toString("base64url");
    const res = await t.send({ as: "participant-a", token: `${header}.${rebound}.${signature}` });
    await t.expectRejected(res, { status: 401, code: "TOKEN_SIGNATURE_INVALID" });
    t.expectBearerChallenge(res, "invalid_token");
  },
});
