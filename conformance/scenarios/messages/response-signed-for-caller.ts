import { scenario } from "../../../src/conformance/scenario.js";
import { post, responseClaims, sign } from "../../lib/messages.js";

export default scenario({
  id: "response-signed-for-caller",
  area: "messages",
  title: "An accepted payment message reaches the backend byte for byte, and the answer is a JWS that the bank's published key verifies, issued by the bank and addressed to the caller",
  origin: [
    "OFB security profile (OpenBanking-Brasil/specs-seguranca), Message Content Signing Considerations (JWS): responses are signed by the account holder with PS256 and a key it publishes in the Directory; iss its organisation id, aud the receiver's, iat, jti",
    "OIDF conformance suite conditions ValidateResourceResponseSignature and ValidateResourceResponseJwtClaims (the payments response's signature with the published key; its iss, aud, iat and jti)",
    "OFB payments API 4.0.0 (OpenBanking-Brasil/openapi): responses are application/jwt",
  ],
  requires: ["client", "token", "message-signer", "bank-keys"],
  async run(t) {
    const jws = await sign(t);
    const res = await post(t, jws);
    t.expectStatus(res, [200, 201]);
    if (t.env.recorder) {
      const got = await t.forwarded(res);
      t.check(Buffer.from(got.body, "base64").toString("latin1") === jws, "the backend received the signed message byte for byte", Buffer.from(got.body, "base64").toString("latin1").slice(0, 120));
    }
    const claims = await responseClaims(t, res);
    t.equal(claims.aud, t.client("participant-a").organisationId, "the response's aud (the calling organisation's id)");
    const now = Date.now() / 1000;
    t.check(typeof claims.iat === "number" && Math.abs(claims.iat - now) < 120, "the response's iat is now (±120 s)", claims.iat);
    t.check(typeof claims.jti === "string" && claims.jti.length > 0, "the response carries a jti", claims.jti);
    const request = JSON.parse(Buffer.from(jws.split(".")[1]!, "base64url").toString("utf8")) as { jti: string };
    t.check(claims.jti !== request.jti, "the response's jti is its own, not the request's", claims.jti);
  },
});
