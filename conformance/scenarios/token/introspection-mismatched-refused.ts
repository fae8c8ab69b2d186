import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "introspection-mismatched-refused",
  area: "token",
  title: "An opaque access token that introspects as active but bound to another participant's certificate is refused with 401 invalid_token (TOKEN_BINDING_MISMATCH) and nothing is forwarded",
  origin: ["RFC 8705 §3.2: the protected resource compares the introspected cnf.x5t#S256 with the presented certificate and rejects a mismatch", "RFC 8705 §3: mismatch → 401 invalid_token"],
  requires: ["client", "second-client", "introspection"],
  async run(t) {
    const now = Math.floor(Date.now() / 1000);
    const token = t.opaqueToken({ active: true, cnf: { "x5t#S256": t.client("participant-b").thumbprint }, client_id: "conformance-other", scope: "openid accounts payments", exp: now + 300 });
    const res = await t.send({ as: "participant-a", token });
    await t.expectRejected(res, { status: 401, code: "TOKEN_BINDING_MISMATCH" });
    t.expectBearerChallenge(res, "invalid_token");
  },
});
