import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "empty-confirmation-refused",
  area: "token",
  title: "An access token whose cnf claim is an empty object is refused with 401 invalid_token (TOKEN_UNBOUND) and nothing is forwarded",
  origin: ["RFC 8705 §3 and §3.1: a bound token carries cnf.x5t#S256", "SolID TestCertificateBound: an empty binding must fail closed"],
  requires: ["client", "token-issuer"],
  async run(t) {
    const token = await t.issuer.jwt({ claims: { cnf: {} } });
    const res = await t.send({ as: "participant-a", token });
    await t.expectRejected(res, { status: 401, code: "TOKEN_UNBOUND" });
    t.expectBearerChallenge(res, "invalid_token");
  },
});
