import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "introspection-without-cnf-refused",
  area: "token",
  title: "An opaque access token that introspects as active but without cnf (not certificate-bound) is refused with 401 invalid_token (TOKEN_UNBOUND) and nothing is forwarded",
  origin: ["RFC 8705 §3.2: introspection of a bound token carries cnf.x5t#S256 at top level", "RFC 7662 §2.2: introspection response members", "SolID TestCertificateBound: nil cnf must fail closed"],
  requires: ["client", "introspection"],
  async run(t) {
    const now = Math.floor(Date.now() / 1000);
    const token = t.opaqueToken({ active: true, client_id: "conformance-unbound", scope: "openid accounts payments", exp: now + 300 });
    const res = await t.send({ as: "participant-a", token });
    await t.expectRejected(res, { status: 401, code: "TOKEN_UNBOUND" });
    t.expectBearerChallenge(res, "invalid_token");
  },
});
