import type { Exchange } from "../../../src/conformance/context.js";
import { ConformanceFailure, scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "listener-level-rejections-ofb-format",
  area: "errors",
  title: "Requests refused before any route is chosen — header fields over the size limit (431) and a backslash in the target (400) — get the OFB error body and an interaction id (the one sent, when it could be read), and are not forwarded",
  origin: [
    "docs/architecture.md §Errors: every edge-generated rejection is answered in the OFB ResponseError format with the interaction id echoed",
    "OFB API contract accounts 2.4.2 swagger: ResponseErrorMetaSingle, application/json; charset=utf-8",
    "FAPI 1 Part 1 §6.2.1: the response x-fapi-interaction-id is the request's value, or a new UUID when none was sent",
    "RFC 9440 §3: 431 for oversized header fields",
    "RFC 9113 §10.5.1: over HTTP/2, a field section larger than the server will handle gets 431 or its stream reset",
  ],
  requires: ["client"],
  async run(t) {
    const as = "participant-a";
    const cases: { what: string; send: () => Promise<Exchange>; status: number; code: string; echoed: boolean }[] = [
      // 64 KiB: above the edge's default 16 KiB limit for the request head, which is then not read: a new id. Over
      // HTTP/2 also above what the edge reads of a field section (twice the limit): the stream may be reset instead.
      { what: "64 KiB header field", send: () => t.send({ as, headers: { "x-conformance-padding": "p".repeat(64 * 1024) } }), status: 431, code: "REQUEST_HEADERS_TOO_LARGE", echoed: false },
      { what: "backslash in the request target", send: () => t.send({ as, path: `${t.paths.accounts}\\..\\admin` }), status: 400, code: "REQUEST_PATH_INVALID", echoed: true },
    ];
    for (const c of cases) {
      try {
        const res = await c.send();
        await t.expectRejected(res, { status: c.status, code: c.code, orStreamRefused: c.status === 431 });
        if (c.echoed) t.expectInteractionId(res, { echoed: true });
      } catch (err) {
        throw err instanceof ConformanceFailure ? new ConformanceFailure(`${c.what}: ${err.message}`) : err;
      }
    }
  },
});
