import type { Exchange } from "../../../src/conformance/context.js";
import { ConformanceFailure, scenario } from "../../../src/conformance/scenario.js";

/** base64url of `{"typ":"JWT"}` and `{}`: a JWS whose header lacks "alg", so the reason quotes a header name. */
const JWS_WITHOUT_ALG = "eyJ0eXAiOiJKV1QifQ.e30.c2lnbmF0dXJl";

export default scenario({
  id: "rfc6750-challenge-syntax",
  area: "errors",
  title: "Every bearer-token rejection carries a syntactically valid WWW-Authenticate: Bearer challenge — no error without credentials, invalid_token (401) for a bad token, invalid_request (400) for a malformed or ambiguous presentation",
  origin: [
    "RFC 6750 §3: WWW-Authenticate MUST be included when the request lacks credentials or lacks a token that enables access; quoted auth-params, each at most once; no error information without credentials; error_description characters %x20-21 / %x23-5B / %x5D-7E",
    "RFC 6750 §3.1: invalid_request → 400 (malformed, more than one method), invalid_token → 401",
    "RFC 8705 §3; docs/architecture.md §Token binding: failure → 401 + WWW-Authenticate: Bearer error=\"invalid_token\"",
  ],
  requires: ["client"],
  async run(t) {
    const as = "participant-a";
    const cases: { what: string; send: () => Promise<Exchange>; status: number; code: string | readonly string[]; error: string | null }[] = [
      { what: "no Authorization header", send: () => t.send({ as }), status: 401, code: "TOKEN_MISSING", error: null },
      { what: "Authorization with another scheme (Basic)", send: () => t.send({ as, headers: { authorization: "Basic Y29uZm9ybWFuY2U6c3VpdGU=" } }), status: 401, code: "TOKEN_MISSING", error: null },
      { what: "a malformed JWS", send: () => t.send({ as, token: "a.b.c" }), status: 401, code: "TOKEN_MALFORMED", error: "invalid_token" },
      { what: "a JWS whose header has no alg", send: () => t.send({ as, token: JWS_WITHOUT_ALG }), status: 401, code: "TOKEN_MALFORMED", error: "invalid_token" },
      // Every b64token character class (RFC 6750 §2.1) and padding; opaque, so introspected or refused as not a JWT.
      { what: "an unknown token using every b64token character", send: () => t.send({ as, token: "Az09-._~+/Az09==" }), status: 401, code: ["TOKEN_INACTIVE", "TOKEN_MALFORMED"], error: "invalid_token" },
      { what: "access_token in the query", send: () => t.send({ as, path: `${t.paths.accounts}?access_token=Az09` }), status: 400, code: "TOKEN_REQUEST_INVALID", error: "invalid_request" },
      { what: "a token both in the header and in the query", send: () => t.send({ as, token: "Az09", path: `${t.paths.accounts}?access_token=Az09` }), status: 400, code: "TOKEN_REQUEST_INVALID", error: "invalid_request" },
      { what: "a token with characters outside b64token", send: () => t.send({ as, headers: { authorization: 'Bearer a"b\\c,d=é' } }), status: 400, code: "TOKEN_REQUEST_INVALID", error: "invalid_request" },
      { what: "two Authorization headers", send: () => t.send({ as, headers: { authorization: ["Bearer Az09", "Bearer Az10"] } }), status: 400, code: "TOKEN_REQUEST_INVALID", error: "invalid_request" },
    ];
    for (const c of cases) {
      try {
        const res = await c.send();
        await t.expectRejected(res, { status: c.status, code: c.code });
        t.expectBearerChallenge(res, c.error);
      } catch (err) {
        throw err instanceof ConformanceFailure ? new ConformanceFailure(`${c.what}: ${err.message}`) : err;
      }
    }
    t.note("insufficient_scope (403) not exercised: it needs a route that requires scopes");
  },
});
