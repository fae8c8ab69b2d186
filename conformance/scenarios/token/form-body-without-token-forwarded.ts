import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "form-body-without-token-forwarded",
  area: "token",
  title: "A form-encoded request body without access_token, sent with a bound token in the Authorization header, is accepted and reaches the backend byte for byte",
  origin: ["RFC 6750 §2.1: the token in the Authorization header; §2.2 concerns only bodies carrying access_token", "FAPI 1 Part 1 §6.2.1: tokens only in the Authorization header"],
  requires: ["client", "token", "recorder"],
  async run(t) {
    const token = await t.boundToken("participant-a");
    const body = "grant=1&name=caf%C3%A9&empty=&access_token_hint=x";
    const res = await t.send({ as: "participant-a", token, method: "POST", headers: { "content-type": "application/x-www-form-urlencoded; charset=UTF-8" }, body });
    t.expectStatus(res, 200);
    const got = await t.forwarded(res);
    t.equal(Buffer.from(got.body, "base64").toString("utf8"), body, "the body the backend received");
  },
});
