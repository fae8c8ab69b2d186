import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "padded-thumbprint-refused",
  area: "token",
  title: "A token whose cnf x5t#S256 is the presented certificate's thumbprint with a trailing '=' pad is refused with 401 invalid_token (TOKEN_BINDING_MALFORMED) and nothing is forwarded",
  origin: ["RFC 8705 §3.1: x5t#S256 MUST omit all trailing pad '=' characters", "SolID TestCertificateBound: a binding that does not match must fail closed"],
  requires: ["client", "token-issuer"],
  async run(t) {
    const { thumbprint } = t.client("participant-a");
    const token = await t.issuer.jwt({ claims: { cnf: { "x5t#S256": `${thumbprint}=` } } });
    const res = await t.send({ as: "participant-a", token });
    await t.expectRejected(res, { status: 401, code: "TOKEN_BINDING_MALFORMED" });
    t.expectBearerChallenge(res, "invalid_token");
  },
});
