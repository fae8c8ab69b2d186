import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "insufficient-scope-refused",
  area: "token",
  title: "On a route that requires a scope, a bound token without it is refused with 403 insufficient_scope naming the scope (TOKEN_SCOPE_INSUFFICIENT) and nothing is forwarded; with it, the request is served",
  origin: [
    "RFC 6750 §3.1: insufficient_scope → 403, the challenge MAY carry the scope needed",
    "RFC 6750 §3: quoted auth-params (scope is a space-delimited list)",
  ],
  requires: ["client", "token-issuer", "scopes"],
  async run(t) {
    const { path, scope } = t.scoped;
    const { thumbprint, softwareStatementId } = t.client("participant-a");
    const claims = { client_id: softwareStatementId ?? "participant-a" };
    const without = await t.issuer.jwt({ thumbprint, claims: { ...claims, scope: "openid" } });
    const res = await t.send({ as: "participant-a", path, token: without });
    await t.expectRejected(res, { status: 403, code: "TOKEN_SCOPE_INSUFFICIENT" });
    const challenge = t.expectBearerChallenge(res, "insufficient_scope");
    t.check((challenge.scope ?? "").split(" ").includes(scope), `the challenge's scope names ${scope}`, challenge.scope);

    const withScope = await t.issuer.jwt({ thumbprint, claims: { ...claims, scope: `openid ${scope}` } });
    t.expectStatus(await t.send({ as: "participant-a", path, token: withScope }), 200);
  },
});
