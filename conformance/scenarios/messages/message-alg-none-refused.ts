import { randomUUID } from "node:crypto";
import { scenario } from "../../../src/conformance/scenario.js";
import { expectRefused, post, signer } from "../../lib/messages.js";

export default scenario({
  id: "message-alg-none-refused",
  area: "messages",
  title: "An unsecured payment message (alg none, no signature) is refused with 400 BAD_SIGNATURE and nothing is forwarded",
  origin: [
    "OFB security profile (OpenBanking-Brasil/specs-seguranca), Message Content Signing Considerations (JWS): messages are signed with PS256",
    "RFC 8725 §3.1: a recipient must not accept alg none where a signature is required",
    "OFB payments API 4.0.0 (OpenBanking-Brasil/openapi): an invalid signature → 400 BAD_SIGNATURE",
  ],
  requires: ["client", "token", "message-signer"],
  async run(t) {
    const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
    const s = signer(t);
    const claims = { data: {}, iss: s.organisationId, aud: t.messages.audience(t.messages.path), iat: Math.floor(Date.now() / 1000), jti: randomUUID() };
    await expectRefused(t, await post(t, `${part({ alg: "none", kid: s.kid, typ: "JWT" })}.${part(claims)}.`), 400, "BAD_SIGNATURE");
  },
});
