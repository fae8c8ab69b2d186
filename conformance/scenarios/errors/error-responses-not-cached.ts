import type { Exchange } from "../../../src/conformance/context.js";
import { ConformanceFailure, scenario } from "../../../src/conformance/scenario.js";

function noStore(res: Exchange): boolean {
  return (res.headers["cache-control"] ?? "").split(",").some((d) => d.trim().toLowerCase() === "no-store");
}

export default scenario({
  id: "error-responses-not-cached",
  area: "errors",
  title: "Rejections from every layer (listener, routing, certificate, interaction id, token) carry Cache-Control: no-store",
  origin: [
    "RFC 9440 §2.4: responses that depend on the client certificate need Cache-Control: no-store or Vary: Client-Cert; an edge rejection depends on the certificate and token presented",
    "docs/architecture.md §Errors: every edge-generated rejection is answered in one format",
  ],
  requires: ["client"],
  async run(t) {
    const as = "participant-a";
    const cases: { what: string; send: () => Promise<Exchange>; status: number }[] = [
      { what: "header fields over the listener's limit (431)", send: () => t.send({ as, headers: { "x-conformance-padding": "p".repeat(64 * 1024) } }), status: 431 },
      { what: "a backslash in the request target (400)", send: () => t.send({ as, path: `${t.paths.accounts}\\x` }), status: 400 },
      { what: "an unrouted path (404)", send: () => t.send({ as, path: "/conformance-unrouted/resource" }), status: 404 },
      { what: "no x-fapi-interaction-id (400)", send: () => t.send({ as, interactionId: false }), status: 400 },
      { what: "no Authorization header (401)", send: () => t.send({ as }), status: 401 },
      { what: "a malformed token (401)", send: () => t.send({ as, token: "a.b.c" }), status: 401 },
    ];
    for (const c of cases) {
      try {
        const res = await c.send();
        if (c.status === 431 && t.streamRefused(res)) {
          // RFC 9113 §10.5.1: over HTTP/2 the edge may reset the stream instead; there is no response to inspect.
          t.note(`${c.what}: the HTTP/2 stream was reset (${res.error}), no response to inspect`);
          await t.expectNotForwarded(res);
          continue;
        }
        t.expectStatus(res, c.status);
        t.check(noStore(res), "Cache-Control includes no-store", res.headers["cache-control"]);
        await t.expectNotForwarded(res);
      } catch (err) {
        throw err instanceof ConformanceFailure ? new ConformanceFailure(`${c.what}: ${err.message}`) : err;
      }
    }
    const noCertificate = await t.send({});
    if (noCertificate.status === 0) t.note(`no client certificate: refused in the TLS handshake (${noCertificate.error}), no HTTP response to inspect`);
    else t.check(noStore(noCertificate), "no client certificate (401): Cache-Control includes no-store", noCertificate.headers["cache-control"]);
  },
});
