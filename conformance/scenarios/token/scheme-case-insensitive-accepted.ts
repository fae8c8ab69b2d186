import { headerValues } from "../../../src/conformance/context.js";
import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "scheme-case-insensitive-accepted",
  area: "token",
  title: "A bound access token sent as 'Authorization: bEARER <token>' is accepted: the scheme name is case-insensitive",
  origin: ["OIDF fapi1-advanced-final-access-token-type-header-case-sensitivity (SetAccessTokenTypeToInvertedCase): normal 200 flow", "RFC 9110 §11.1: the authentication scheme is case-insensitive; RFC 6750 §2.1"],
  requires: ["client", "token"],
  async run(t) {
    const token = await t.boundToken("participant-a");
    const res = await t.send({ as: "participant-a", headers: { authorization: `bEARER ${token}` } });
    t.expectStatus(res, 200);
    if (t.has("recorder")) {
      const authorization = headerValues(await t.forwarded(res), "authorization");
      t.equal(authorization.length, 1, "the number of Authorization headers the backend received");
      t.equal(authorization[0], `bEARER ${token}`, "the Authorization header the backend received (unchanged)");
    }
  },
});
