import { randomUUID } from "node:crypto";
import { scenario } from "../../../src/conformance/scenario.js";
import { expectRefused, post, sign } from "../../lib/messages.js";

export default scenario({
  id: "message-wrong-issuer-refused",
  area: "messages",
  title: "A payment message signed with the caller's key but naming another organisation as iss is refused with 403 INVALID_CLIENT and nothing is forwarded",
  origin: [
    "OFB security profile (OpenBanking-Brasil/specs-seguranca), Message Content Signing Considerations (JWS): iss is the organisation id of the sender, checked against its certificate",
    "OFB payments API 4.0.0 (OpenBanking-Brasil/openapi): an invalid iss → 403 INVALID_CLIENT",
  ],
  requires: ["client", "token", "message-signer"],
  async run(t) {
    await expectRefused(t, await post(t, await sign(t, { iss: randomUUID() })), 403, "INVALID_CLIENT");
  },
});
