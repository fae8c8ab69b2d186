import { scenario } from "../../../src/conformance/scenario.js";
import { expectRefused, post, sign } from "../../lib/messages.js";

export default scenario({
  id: "message-stale-iat-refused",
  area: "messages",
  title: "A payment message issued 10 minutes ago (iat beyond the ±60 s window) is refused with 403 INVALID_CLIENT and nothing is forwarded",
  origin: [
    "OFB security profile (OpenBanking-Brasil/specs-seguranca), Message Content Signing Considerations (JWS): iat is checked against the receiver's clock, 60 s tolerance",
    "OFB payments API 4.0.0 (OpenBanking-Brasil/openapi): an invalid iat → 403 INVALID_CLIENT",
  ],
  requires: ["client", "token", "message-signer"],
  async run(t) {
    await expectRefused(t, await post(t, await sign(t, { iat: Math.floor(Date.now() / 1000) - 600 })), 403, "INVALID_CLIENT");
  },
});
