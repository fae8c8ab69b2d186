import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "base64-not-base64url-thumbprint-refused",
  area: "token",
  title: "A token whose cnf x5t#S256 uses the base64 alphabet ('+', '/') instead of base64url is refused with 401 invalid_token (TOKEN_BINDING_MALFORMED) and nothing is forwarded",
  origin: ["RFC 8705 §3.1: x5t#S256 is base64url-encoded (RFC 4648 §5 alphabet)", "SolID TestCertificateBound: a binding that does not match must fail closed"],
  requires: ["client", "token-issuer"],
  async run(t) {
    const { thumbprint } = t.client("participant-a");
    let value = thumbprint.replace(/-/g, "+").replace(/_/g, "/");
    if (value === thumbprint) {
      // This digest encodes identically in both alphabets: put a base64-only character in its place.
      value = `+${thumbprint.slice(1)}`;
      t.note("the certificate's thumbprint has no '-' or '_': its first character was replaced by '+'");
    }
    const token = await t.issuer.jwt({ claims: { cnf: { "x5t#S256": value } } });
    const res = await t.send({ as: "participant-a", token });
    await t.expectRejected(res, { status: 401, code: "TOKEN_BINDING_MALFORMED" });
    t.expectBearerChallenge(res, "invalid_token");
  },
});
