import { scenario } from "../../../src/conformance/scenario.js";
import { expectRefused, post, sign } from "../../lib/messages.js";

export default scenario({
  id: "message-wrong-audience-refused",
  area: "messages",
  title: "A correctly signed payment message addressed to another endpoint (aud) is refused with 403 INVALID_CLIENT and nothing is forwarded",
  origin: [
    "OFB security profile (OpenBanking-Brasil/specs-seguranca), Message Content Signing Considerations (JWS): aud is the endpoint's URI and must be validated",
    "OFB payments API 4.0.0 (OpenBanking-Brasil/openapi): an invalid aud, iss, iat or jti → 403 with errors[].code INVALID_CLIENT",
  ],
  requires: ["client", "token", "message-signer"],
  async run(t) {
    const other = t.messages.audience("/open-banking/payments/v4/pix/payments/urn:conformance:other");
    await expectRefused(t, await post(t, await sign(t, { aud: other })), 403, "INVALID_CLIENT");
  },
});
