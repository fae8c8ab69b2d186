import type { Exchange } from "../../../src/conformance/context.js";
import { scenario } from "../../../src/conformance/scenario.js";

/** Requests in a row before the scenario gives up finding the participant's limit. */
const BURST = 50;

export default scenario({
  id: "limits-participant-429-retry-after",
  area: "messages",
  title: "A participant over its traffic limit gets 429 with Retry-After in the OFB error format, and the request is not forwarded",
  origin: [
    "OFB OpenAPI documents (OpenBanking-Brasil/openapi), response 429 TooManyRequests: the operation was refused because too many requests were made in a given time (ResponseErrorMetaSingle)",
    "RFC 6585 §4: 429 Too Many Requests MAY include Retry-After",
    "RFC 9110 §10.2.3: Retry-After is delay-seconds or an HTTP-date",
  ],
  requires: ["client", "participant-limit"],
  async run(t) {
    const path = t.participantLimitedPath;
    const agent = t.agent("participant-a");
    let limited: Exchange | undefined;
    for (let i = 0; i < BURST && !limited; i++) {
      const res = await t.send({ agent, path });
      if (res.status === 429) limited = res;
      else t.check(res.status !== 0, "each request of the burst is answered", res.error);
    }
    if (!limited) return t.fail(`a 429 within ${BURST} requests in a row`, "no 429");
    await t.expectRejected(limited, { status: 429, code: "RATE_LIMIT_EXCEEDED" });
    const retryAfter = limited.headers["retry-after"];
    t.check(retryAfter !== undefined && /^[1-9]\d*$/.test(retryAfter), "Retry-After in delay-seconds of at least 1", retryAfter);
  },
});
