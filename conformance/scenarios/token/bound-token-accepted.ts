import { headerValues } from "../../../src/conformance/context.js";
import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "bound-token-accepted",
  area: "token",
  title: "A token bound to the presented certificate (cnf.x5t#S256) is accepted and forwarded unchanged",
  origin: ["RFC 8705 §3 and §3.1", "panva/node-oidc-provider test/certificate_bound_access_tokens: right certificate → 200"],
  requires: ["client", "token"],
  async run(t) {
    const token = await t.boundToken("participant-a");
    const res = await t.send({ as: "participant-a", token });
    t.expectStatus(res, 200);
    if (t.has("recorder")) {
      const got = await t.forwarded(res);
      t.equal(headerValues(got, "authorization")[0], `Bearer ${token}`, "the Authorization header the backend received");
    }
  },
});
