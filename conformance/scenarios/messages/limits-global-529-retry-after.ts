import type { Exchange } from "../../../src/conformance/context.js";
import { scenario } from "../../../src/conformance/scenario.js";

/** Concurrent requests per round, and rounds before the scenario gives up finding the ceiling. */
const BURST = 20;
const ROUNDS = 3;

export default scenario({
  id: "limits-global-529-retry-after",
  area: "messages",
  title: "Over a route's global TPS ceiling the edge answers 529 (site overloaded) with Retry-After in the OFB error format, and the request is not forwarded",
  origin: [
    "OFB OpenAPI documents (OpenBanking-Brasil/openapi), response 529 SiteIsOverloaded: 'O site está sobrecarregado e a operação foi recusada, pois foi atingido o limite máximo de TPS global, neste momento.'",
    "RFC 9110 §10.2.3: Retry-After is delay-seconds or an HTTP-date",
  ],
  requires: ["client", "global-limit"],
  async run(t) {
    const path = t.globalLimitedPath;
    let overloaded: Exchange | undefined;
    for (let round = 0; round < ROUNDS && !overloaded; round++) {
      const answers = await Promise.all(Array.from({ length: BURST }, () => t.send({ as: "participant-a", path })));
      overloaded = answers.find((a) => a.status === 529);
    }
    if (!overloaded) return t.fail(`a 529 within ${ROUNDS} rounds of ${BURST} concurrent requests`, "no 529");
    await t.expectRejected(overloaded, { status: 529, code: "SITE_OVERLOADED" });
    const retryAfter = overloaded.headers["retry-after"];
    t.check(retryAfter !== undefined && /^[1-9]\d*$/.test(retryAfter), "Retry-After in delay-seconds of at least 1", retryAfter);
  },
});
