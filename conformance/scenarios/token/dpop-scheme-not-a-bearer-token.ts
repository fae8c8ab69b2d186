import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "dpop-scheme-not-a-bearer-token",
  area: "token",
  title: "A bound access token sent with the DPoP scheme (and no DPoP support) counts as no bearer token: 401 (TOKEN_MISSING) with a bare Bearer challenge, and nothing is forwarded",
  origin: [
    "RFC 6750 §2.1: bearer credentials use the Bearer scheme; §3: a request without bearer credentials gets a challenge without error information",
    "OIDF fapi2-security-profile-final-dpop-negative-tests: DPoP at the resource server is relevant only if supported",
  ],
  requires: ["client", "token"],
  async run(t) {
    const token = await t.boundToken("participant-a");
    const res = await t.send({ as: "participant-a", headers: { authorization: `DPoP ${token}` } });
    await t.expectRejected(res, { status: 401, code: "TOKEN_MISSING" });
    t.expectBearerChallenge(res, null);
  },
});
