import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "other-participant-token-refused",
  area: "token",
  title: "A participant presenting another participant's access token is refused with exactly 401 invalid_token (TOKEN_BINDING_MISMATCH) and nothing is forwarded",
  origin: [
    "RFC 8705 §3: certificate mismatch → HTTP 401 with invalid_token (RFC 6750 §3.1)",
    "OIDF fapi1-advanced-final (AbstractFAPI1AdvancedFinalMultipleClient): client-1 certificate with client-2 token, EnsureHttpStatusCodeIs4xx — the suite accepts any 4xx, RFC 8705 §3 requires 401 + invalid_token",
    "panva/node-oidc-provider test/certificate_bound_access_tokens: unrelated certificate → 401",
  ],
  requires: ["client", "token", "second-client"],
  async run(t) {
    const token = await t.boundToken("participant-a");
    const res = await t.send({ as: "participant-b", token });
    await t.expectRejected(res, { status: 401, code: "TOKEN_BINDING_MISMATCH" });
    t.expectBearerChallenge(res, "invalid_token");
  },
});
