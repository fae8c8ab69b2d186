import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "token-without-cnf-refused",
  area: "token",
  title: "A valid access token without a cnf claim (not bound to any certificate) is refused with 401 invalid_token (TOKEN_UNBOUND) and nothing is forwarded",
  origin: ["RFC 8705 §3: the protected resource verifies the certificate the token is bound to", "SolID TestCertificateBound: nil cnf must fail closed", "3scale APIcast t/apicast-policy-fapi.t: missing cnf → 401"],
  requires: ["client", "token-issuer"],
  async run(t) {
    const token = await t.issuer.jwt({ claims: { client_id: "conformance-unbound", scope: "openid accounts payments" } });
    const res = await t.send({ as: "participant-a", token });
    await t.expectRejected(res, { status: 401, code: "TOKEN_UNBOUND" });
    t.expectBearerChallenge(res, "invalid_token");
  },
});
