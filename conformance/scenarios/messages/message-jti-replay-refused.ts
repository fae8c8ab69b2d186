import { scenario } from "../../../src/conformance/scenario.js";
import { expectRefused, post, sign } from "../../lib/messages.js";

export default scenario({
  id: "message-jti-replay-refused",
  area: "messages",
  title: "A payment message sent twice: the first is forwarded, the second (same jti) is refused with 403 INVALID_CLIENT and never reaches the backend",
  origin: [
    "OFB security profile (OpenBanking-Brasil/specs-seguranca), Message Content Signing Considerations (JWS): jti is unique within 24 h and cannot be reused",
    "OFB payments API 4.0.0 (OpenBanking-Brasil/openapi): a reused jti → 403 INVALID_CLIENT; the signature checks precede the idempotency checks",
  ],
  requires: ["client", "token", "message-signer"],
  async run(t) {
    const jws = await sign(t);
    const first = await post(t, jws);
    t.expectStatus(first, [200, 201]);
    if (t.env.recorder) await t.forwarded(first);
    await expectRefused(t, await post(t, jws), 403, "INVALID_CLIENT");
  },
});
