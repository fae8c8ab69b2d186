import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "several-confirmation-members-refused",
  area: "token",
  title: "A token whose cnf holds the right x5t#S256 together with another confirmation member (jkt) is refused with 401 invalid_token (TOKEN_BINDING_MALFORMED) and nothing is forwarded",
  origin: ["RFC 8705 §3.1: the binding is the cnf.x5t#S256 member", "SolID TestCertificateBound: jkt in cnf must fail closed"],
  requires: ["client", "token-issuer"],
  async run(t) {
    const { thumbprint } = t.client("participant-a");
    const token = await t.issuer.jwt({ claims: { cnf: { "x5t#S256": thumbprint, jkt: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I" } } });
    const res = await t.send({ as: "participant-a", token });
    await t.expectRejected(res, { status: 401, code: "TOKEN_BINDING_MALFORMED" });
    t.expectBearerChallenge(res, "invalid_token");
  },
});
