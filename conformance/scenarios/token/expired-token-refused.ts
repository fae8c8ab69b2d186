import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "expired-token-refused",
  area: "token",
  title: "A bound access token whose exp passed ten minutes ago is refused with 401 invalid_token (TOKEN_EXPIRED) and nothing is forwarded",
  origin: [
    "RFC 6750 §3.1: invalid_token (401) for an expired access token",
    "OFB Security Profile ID3 data sharing: an invalid token gets 401; FAPI-BR access tokens live 300–900 s (OFB security profile ID3, v2.1.0)",
  ],
  requires: ["client", "token-issuer"],
  async run(t) {
    // Issued twenty minutes ago for ten minutes: expired by more than any permitted clock skew (at most 300 s).
    const token = await t.issuer.jwt({ thumbprint: t.client("participant-a").thumbprint, now: new Date(Date.now() - 20 * 60_000), lifetimeSeconds: 600 });
    const res = await t.send({ as: "participant-a", token });
    await t.expectRejected(res, { status: 401, code: "TOKEN_EXPIRED" });
    t.expectBearerChallenge(res, "invalid_token");
  },
});
