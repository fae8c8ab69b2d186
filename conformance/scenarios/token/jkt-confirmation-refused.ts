import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "jkt-confirmation-refused",
  area: "token",
  title: "A token bound with a DPoP key thumbprint (cnf.jkt) instead of a certificate is refused with 401 invalid_token (TOKEN_BINDING_UNSUPPORTED) and nothing is forwarded",
  origin: ["RFC 8705 §3.1: certificate binding is cnf.x5t#S256", "SolID TestCertificateBound: a jkt-only cnf must fail closed"],
  requires: ["client", "token-issuer"],
  async run(t) {
    const token = await t.issuer.jwt({ claims: { cnf: { jkt: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I" } } });
    const res = await t.send({ as: "participant-a", token });
    await t.expectRejected(res, { status: 401, code: "TOKEN_BINDING_UNSUPPORTED" });
    t.expectBearerChallenge(res, "invalid_token");
  },
});
