import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "no-authorization-challenge-without-error",
  area: "token",
  title: "A request without an Authorization header is refused with 401 (TOKEN_MISSING) and a bare Bearer challenge that carries no error, and nothing is forwarded",
  origin: ["RFC 6750 §3: a request without authentication credentials gets a challenge without error information", "OFB accounts 2.4.2: 401 for a missing authentication header"],
  requires: ["client"],
  async run(t) {
    const res = await t.send({ as: "participant-a" });
    await t.expectRejected(res, { status: 401, code: "TOKEN_MISSING" });
    t.expectBearerChallenge(res, null);
  },
});
