import { headerValues } from "../../../src/conformance/context.js";
import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "introspection-active-bound-accepted",
  area: "token",
  title: "An opaque access token that introspects as active and bound to the presented certificate is accepted and forwarded unchanged",
  origin: [
    "RFC 7662 §2.2: active true is a grant",
    "RFC 8705 §3.2: the introspection response carries cnf.x5t#S256 at top level; the protected resource compares it with the presented certificate",
    "panva/node-oidc-provider test/certificate_bound_access_tokens: introspection exposes cnf.x5t#S256; right certificate → 200",
  ],
  requires: ["client", "introspection"],
  async run(t) {
    const client = t.client("participant-a");
    const now = Math.floor(Date.now() / 1000);
    const token = t.opaqueToken({
      active: true,
      cnf: { "x5t#S256": client.thumbprint },
      client_id: client.softwareStatementId ?? "participant-a",
      scope: "openid accounts payments",
      iat: now,
      exp: now + 300,
    });
    const res = await t.send({ as: "participant-a", token });
    t.expectStatus(res, 200);
    if (t.has("recorder")) {
      const authorization = headerValues(await t.forwarded(res), "authorization");
      t.equal(authorization.length, 1, "the number of Authorization headers the backend received");
      t.equal(authorization[0], `Bearer ${token}`, "the Authorization header the backend received");
    }
  },
});
