import { randomUUID } from "node:crypto";
import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "unknown-kid-refused",
  area: "token",
  title: "A bound access token whose header names a key id the authorization server does not publish is refused with 401 invalid_token (TOKEN_KEY_UNKNOWN) and nothing is forwarded",
  origin: ["RFC 6750 §3.1: invalid_token (401) for an invalid access token", "OFB Security Profile ID3 data sharing: an invalid token gets 401"],
  requires: ["client", "token-issuer"],
  async run(t) {
    // The edge may refetch the JWK Set once for an unknown kid before refusing.
    const token = await t.issuer.jwt({ thumbprint: t.client("participant-a").thumbprint, header: { kid: `conformance-unknown-${randomUUID()}` } });
    const res = await t.send({ as: "participant-a", token });
    await t.expectRejected(res, { status: 401, code: "TOKEN_KEY_UNKNOWN" });
    t.expectBearerChallenge(res, "invalid_token");
  },
});
