import { scenario } from "../../../src/conformance/scenario.js";
import { expectRefused, post, sign } from "../../lib/messages.js";

export default scenario({
  id: "message-bad-signature-refused",
  area: "messages",
  title: "A signed payment message whose signature has one bit flipped is refused with 400 BAD_SIGNATURE and nothing is forwarded",
  origin: [
    "OIDF conformance suite: fapi1-advanced-final-brazil-ensure-bad-payment-signature-fails (a payment request with an invalid signature must be refused)",
    "OFB payments API 4.0.0 (OpenBanking-Brasil/openapi): a request whose JWS signature is invalid → 400 with errors[].code BAD_SIGNATURE",
    "RFC 7515 §5.2: a JWS whose signature does not validate is rejected",
  ],
  requires: ["client", "token", "message-signer"],
  async run(t) {
    const [header, payload, signature] = (await sign(t)).split(".");
    const bytes = Buffer.from(signature!, "base64url");
    bytes[0] = bytes[0]! ^ 0x01;
    await expectRefused(t, await post(t, `${header}.${payload}.${bytes.toString("base64url")}`), 400, "BAD_SIGNATURE");
  },
});
