import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "introspection-nested-cnf-refused",
  area: "token",
  title: "An active introspection response whose cnf is nested below the top level does not bind the token: refused with 401 invalid_token (TOKEN_UNBOUND) and nothing is forwarded",
  origin: ["RFC 8705 §3.2: cnf is a top-level member of the introspection response", "RFC 7662 §2.2: introspection response members"],
  requires: ["client", "introspection"],
  async run(t) {
    const now = Math.floor(Date.now() / 1000);
    const token = t.opaqueToken({ active: true, ext: { cnf: { "x5t#S256": t.client("participant-a").thumbprint } }, scope: "openid accounts payments", exp: now + 300 });
    const res = await t.send({ as: "participant-a", token });
    await t.expectRejected(res, { status: 401, code: "TOKEN_UNBOUND" });
    t.expectBearerChallenge(res, "invalid_token");
  },
});
