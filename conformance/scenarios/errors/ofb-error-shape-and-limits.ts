import type { Exchange, ScenarioContext } from "../../../src/conformance/context.js";
import { ConformanceFailure, scenario } from "../../../src/conformance/scenario.js";

/** accounts 2.4.2 `meta.requestDateTime`: RFC 3339 UTC, at most 20 characters (`2021-05-21T08:30:00Z`). */
const REQUEST_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const SKEW_MS = 5 * 60_000;
/** Three dot-separated parts, so read as a JWS, whose protected header does not decode: malformed wherever it is sent. */
const MALFORMED_JWS = "a.b.c";

/** What `expectRejected` leaves out: the exact requestDateTime form, a current `Date`, and the interaction id echoed when one was sent. */
function expectShape(t: ScenarioContext, res: Exchange, o: { echoed: boolean }): void {
  const meta = res.json<{ meta: { requestDateTime: string } }>().meta;
  t.check(REQUEST_DATE_TIME.test(meta.requestDateTime), "meta.requestDateTime is RFC 3339 UTC without fractions (≤ 20 characters)", meta.requestDateTime);
  t.check(Math.abs(Date.parse(meta.requestDateTime) - Date.now()) <= SKEW_MS, "meta.requestDateTime is within 5 minutes of now", meta.requestDateTime);
  const date = Date.parse(res.headers.date ?? "");
  t.check(Math.abs(date - Date.now()) <= SKEW_MS, "a Date header within 5 minutes of now", res.headers.date);
  const id = res.headers["x-fapi-interaction-id"];
  if (o.echoed) t.equal(id, res.interactionId, "x-fapi-interaction-id (echoed verbatim)");
  else t.check(id !== res.interactionId, "a new x-fapi-interaction-id, not the missing or invalid one sent", id);
}

export default scenario({
  id: "ofb-error-shape-and-limits",
  area: "errors",
  title: "Every kind of rejection — including requests built to inflate the error text — is answered with an OFB ResponseErrorMetaSingle body within its size limits, a current date and the interaction id",
  origin: [
    "OFB API contract accounts 2.4.2 swagger: ResponseErrorMetaSingle — errors[] 1..13 {code ≤255, title ≤255, detail ≤2048}, meta.requestDateTime RFC 3339 ≤20 characters, application/json; charset=utf-8",
    "OIDF conformance suite, historical OFB functional tests (ffffbbc2): ErrorValidator — errors[] 1..13, code/title ≤255, detail ≤2048",
    "FAPI 1 Part 1 §6.2.1 and accounts 2.4.2: x-fapi-interaction-id echoed, or a new one when missing or invalid; a Date header on responses",
  ],
  requires: ["client"],
  async run(t) {
    const as = "participant-a";
    const cases: { what: string; send: () => Promise<Exchange>; status: number; code: string; echoed: boolean; orHandshakeRefused?: boolean }[] = [
      // docs/architecture.md, decision D3: a listener that requires a certificate refuses this one in the handshake, with no body to inspect.
      { what: "no client certificate", send: () => t.send({ token: MALFORMED_JWS }), status: 401, code: "CERT_REQUIRED", echoed: true, orHandshakeRefused: true },
      { what: "no Authorization header", send: () => t.send({ as }), status: 401, code: "TOKEN_MISSING", echoed: true },
      { what: "malformed token", send: () => t.send({ as, token: MALFORMED_JWS }), status: 401, code: "TOKEN_MALFORMED", echoed: true },
      { what: "no x-fapi-interaction-id", send: () => t.send({ as, interactionId: false }), status: 400, code: "INTERACTION_ID_INVALID", echoed: false },
      { what: "unrouted path", send: () => t.send({ as, path: "/conformance-unrouted/resource" }), status: 404, code: "ROUTE_NOT_FOUND", echoed: true },
      // Hostile inputs: whatever of them an error detail might quote must still fit the limits.
      { what: "6000-character unrouted path", send: () => t.send({ as, path: `/conformance-unrouted/${"x".repeat(6000)}` }), status: 404, code: "ROUTE_NOT_FOUND", echoed: true },
      // The HTTP/1.1 parser refuses raw non-ASCII in the request target before any header is read: a new id, not an
      // echo. An HTTP/2 header block arrives whole, so the id sent can be echoed.
      { what: "raw non-ASCII bytes in the request target", send: () => t.send({ as, path: `${t.paths.accounts}/${"é".repeat(1000)}` }), status: 400, code: "REQUEST_MALFORMED", echoed: t.env.protocol === "http2" },
      { what: "percent-encoded quotes, backslash and emoji in the path", send: () => t.send({ as, path: `${t.paths.accounts}/%22%5C%22${"%F0%9F%92%A5".repeat(300)}` }), status: 400, code: "REQUEST_PATH_INVALID", echoed: true },
      // Above the edge's default authorizationServer.maxTokenLength (4096).
      { what: "5000-character bearer token", send: () => t.send({ as, token: "A".repeat(5000) }), status: 400, code: "TOKEN_REQUEST_INVALID", echoed: true },
      { what: "bearer token with quotes, backslashes and non-ASCII", send: () => t.send({ as, headers: { authorization: `Bearer ${'"\\é,='.repeat(400)}` } }), status: 400, code: "TOKEN_REQUEST_INVALID", echoed: true },
      { what: "1000-character x-fapi-interaction-id with quotes and non-ASCII", send: () => t.send({ as, interactionId: `"\\é${"f".repeat(997)}` }), status: 400, code: "INTERACTION_ID_INVALID", echoed: false },
    ];
    for (const c of cases) {
      try {
        const res = await c.send();
        await t.expectRejected(res, { status: c.status, code: c.code, orHandshakeRefused: c.orHandshakeRefused ?? false });
        if (res.status !== 0) expectShape(t, res, { echoed: c.echoed });
      } catch (err) {
        throw err instanceof ConformanceFailure ? new ConformanceFailure(`${c.what}: ${err.message}`) : err;
      }
    }
  },
});
