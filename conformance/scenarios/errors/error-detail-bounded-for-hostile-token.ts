import { scenario } from "../../../src/conformance/scenario.js";

/** Extra `cnf` members, each named with 32 characters: enough for an error detail that lists them to pass 2048 characters. */
const EXTRA_MEMBERS = 62;

export default scenario({
  id: "error-detail-bounded-for-hostile-token",
  area: "errors",
  title: "A validly signed token whose cnf lists dozens of long confirmation members is rejected (401 TOKEN_BINDING_MALFORMED) with an error detail of at most 2048 characters and a well-formed challenge",
  origin: [
    "OFB API contract accounts 2.4.2 swagger: ResponseErrorMetaSingle errors[].detail ≤2048",
    "OIDF conformance suite, historical OFB functional tests (ffffbbc2): ErrorValidator — detail ≤2048",
    "RFC 8705 §3.1 / RFC 7800 §3.1: exactly one confirmation method; RFC 6750 §3: error_description characters %x20-21 / %x23-5B / %x5D-7E",
  ],
  requires: ["client", "token-issuer"],
  async run(t) {
    const cnf: Record<string, unknown> = { "x5t#S256": t.client("participant-a").thumbprint };
    for (let i = 0; i < EXTRA_MEMBERS; i++) cnf[`m${String(i).padStart(31, "x")}`] = 1;
    const token = await t.issuer.jwt({ claims: { cnf } });
    const res = await t.send({ as: "participant-a", token });
    await t.expectRejected(res, { status: 401, code: "TOKEN_BINDING_MALFORMED" });
    t.expectBearerChallenge(res, "invalid_token");
    t.note(`token of ${token.length} characters; errors[0].detail has ${res.json<{ errors: { detail: string }[] }>().errors[0]!.detail.length} characters`);
  },
});
