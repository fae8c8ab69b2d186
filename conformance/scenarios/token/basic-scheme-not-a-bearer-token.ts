import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "basic-scheme-not-a-bearer-token",
  area: "token",
  title: "Basic credentials in the Authorization header count as no bearer token: 401 (TOKEN_MISSING) with a bare Bearer challenge without error, and nothing is forwarded",
  origin: ["RFC 6750 §2.1: bearer credentials use the Bearer scheme; §3: a request without bearer credentials gets a challenge without error information"],
  requires: ["client"],
  async run(t) {
    const basic = Buffer.from("conformance-client:conformance-secret").toString("base64");
    const res = await t.send({ as: "participant-a", headers: { authorization: `Basic ${basic}` } });
    await t.expectRejected(res, { status: 401, code: "TOKEN_MISSING" });
    t.expectBearerChallenge(res, null);
  },
});
