import { scenario } from "../../../src/conformance/scenario.js";
import { jwsParts } from "../../lib/jwt.js";

export default scenario({
  id: "bad-signature-refused",
  area: "token",
  title: "A genuine bound access token whose signature has one bit flipped is refused with 401 invalid_token (TOKEN_SIGNATURE_INVALID) and nothing is forwarded",
  origin: ["RFC 6750 §3.1: invalid_token (401) for a malformed or invalid access token", "OFB Security Profile ID3 data sharing: an invalid token gets 401"],
  requires: ["client", "token"],
  async run(t) {
    const genuine = await t.boundToken("participant-a");
    const { header, payload, signature } = jwsParts(t, genuine);
    const bytes = Buffer.from(signature, "base64url");
    bytes[0] = bytes[0]! ^ 0x01;
    const token = `${header}.${payload}.${bytes.toString("base64url")}`;
    const res = await t.send({ as: "participant-a", token });
    await t.expectRejected(res, { status: 401, code: "TOKEN_SIGNATURE_INVALID" });
    t.expectBearerChallenge(res, "invalid_token");
  },
});
