import { createHash, X509Certificate } from "node:crypto";
import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "x5t-sha1-confirmation-refused",
  area: "token",
  title: "A token bound by the certificate's SHA-1 thumbprint (cnf.x5t) instead of x5t#S256 is refused with 401 invalid_token (TOKEN_BINDING_UNSUPPORTED) and nothing is forwarded",
  origin: ["RFC 8705 §3.1: the confirmation method is x5t#S256 (SHA-256)", "SolID TestCertificateBound: a cnf without a matching certificate binding must fail closed"],
  requires: ["client", "token-issuer"],
  async run(t) {
    const der = new X509Certificate(t.client("participant-a").leaf).raw;
    const sha1 = createHash("sha1").update(der).digest("base64url");
    const token = await t.issuer.jwt({ claims: { cnf: { x5t: sha1 } } });
    const res = await t.send({ as: "participant-a", token });
    await t.expectRejected(res, { status: 401, code: "TOKEN_BINDING_UNSUPPORTED" });
    t.expectBearerChallenge(res, "invalid_token");
  },
});
