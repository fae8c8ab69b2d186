import type { Exchange } from "../../../src/conformance/context.js";
import { ConformanceFailure, scenario } from "../../../src/conformance/scenario.js";

interface Row {
  readonly what: string;
  readonly send: () => Promise<Exchange>;
  readonly status: number;
  readonly code: string;
  /** The RFC 6750 §3.1 error the challenge carries; undefined: the row is not a bearer-token rejection. */
  readonly challenge?: string;
  /** docs/architecture.md, decision D3: a strict listener refuses a missing certificate in the handshake instead. */
  readonly orHandshakeRefused?: boolean;
}

export default scenario({
  id: "status-mapping-table",
  area: "errors",
  title: "Each rejection class gets its status and code: interaction id 400, query token 400 invalid_request, no certificate 401, bad or foreign token 401 invalid_token, missing Directory role 403, unknown route 404 — none forwarded",
  origin: [
    "docs/architecture.md §Errors: 400 malformed / 401 certificate or token / 403 participant status, role, scope; decisions D1 (interaction id 400) and D3 (no certificate: 401 or handshake refused)",
    "RFC 6750 §3.1: invalid_request 400, invalid_token 401; RFC 8705 §3: certificate mismatch → 401 invalid_token",
    "OFB accounts 2.4.2: x-fapi-interaction-id missing or invalid → 400; 401 missing/invalid authentication or token; 403 security policy violated; 404",
    "OIDF conformance suite: DisallowAccessTokenInQuery (400, 401 or 414; this edge answers 400)",
  ],
  requires: ["client", "token", "second-client", "test-pki"],
  async run(t) {
    const token = await t.boundToken("participant-a");
    const as = "participant-a";
    const rows: Row[] = [
      { what: "no x-fapi-interaction-id", send: () => t.send({ as, token, interactionId: false }), status: 400, code: "INTERACTION_ID_INVALID" },
      { what: "an x-fapi-interaction-id that is not a UUID", send: () => t.send({ as, token, interactionId: "not-a-uuid" }), status: 400, code: "INTERACTION_ID_INVALID" },
      { what: "the access token in the query", send: () => t.send({ as, path: `${t.paths.accounts}?access_token=${encodeURIComponent(token)}` }), status: 400, code: "TOKEN_REQUEST_INVALID", challenge: "invalid_request" },
      { what: "no client certificate on an mTLS route", send: () => t.send({ token }), status: 401, code: "CERT_REQUIRED", orHandshakeRefused: true },
      { what: "a malformed token", send: () => t.send({ as, token: "a.b.c" }), status: 401, code: "TOKEN_MALFORMED", challenge: "invalid_token" },
      { what: "a token bound to another participant's certificate", send: () => t.send({ as: "participant-b", token }), status: 401, code: "TOKEN_BINDING_MISMATCH", challenge: "invalid_token" },
      { what: "an organisation without the API's Directory role (participant-c, PAGTO only, on a DADOS route)", send: () => t.send({ as: "participant-c" }), status: 403, code: "DIRECTORY_ROLE_MISSING" },
      { what: "a path no route serves", send: () => t.send({ as, token, path: "/conformance-unrouted/resource" }), status: 404, code: "ROUTE_NOT_FOUND" },
    ];
    for (const row of rows) {
      try {
        const res = await row.send();
        await t.expectRejected(res, { status: row.status, code: row.code, orHandshakeRefused: row.orHandshakeRefused ?? false });
        if (row.challenge !== undefined) t.expectBearerChallenge(res, row.challenge);
      } catch (err) {
        throw err instanceof ConformanceFailure ? new ConformanceFailure(`${row.what}: ${err.message}`) : err;
      }
    }
  },
});
