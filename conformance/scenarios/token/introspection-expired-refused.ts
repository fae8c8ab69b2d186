import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "introspection-expired-refused",
  area: "token",
  title: "An opaque token introspected as active and bound but with an exp ten minutes in the past is refused with 401 invalid_token (TOKEN_EXPIRED) and nothing is forwarded",
  origin: ["RFC 7662 §2.2: exp is when the token expires; §4: a response containing exp MUST NOT be cached beyond the time indicated therein", "RFC 6750 §3.1: invalid_token (401) for an expired access token"],
  requires: ["client", "introspection"],
  async run(t) {
    const now = Math.floor(Date.now() / 1000);
    const token = t.opaqueToken({ active: true, cnf: { "x5t#S256": t.client("participant-a").thumbprint }, scope: "openid accounts payments", iat: now - 1200, exp: now - 600 });
    const res = await t.send({ as: "participant-a", token });
    await t.expectRejected(res, { status: 401, code: "TOKEN_EXPIRED" });
    t.expectBearerChallenge(res, "invalid_token");
  },
});
