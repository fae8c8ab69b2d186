import type { Exchange } from "../../../src/conformance/context.js";
import { scenario } from "../../../src/conformance/scenario.js";

/** RFC 1123 / RFC 9110 §5.6.7 IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`. */
const IMF_FIXDATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const FIVE_MINUTES_MS = 5 * 60_000;

export default scenario({
  id: "date-header-within-five-minutes",
  area: "headers",
  title: "Served and refused responses carry one RFC 1123 Date header within five minutes of the current time",
  origin: [
    "OIDF conformance suite: CheckForDateHeaderInResourceResponse — RFC 1123 date within ±5 minutes (fapi1-advanced-final, fapi2-security-profile-final-happy-flow)",
    "FAPI 1 Part 1 §6.2.1: responses carry a Date header",
    "RFC 9110 §6.6.1: an origin server with a clock sends Date, in IMF-fixdate form",
  ],
  requires: ["client", "token"],
  async run(t) {
    const token = await t.boundToken("participant-a");
    const date = (res: Exchange, what: string) => {
      const lines = res.rawHeaders.filter(([k]) => k.toLowerCase() === "date").map(([, v]) => v);
      t.check(lines.length === 1, `${what}: exactly one Date header`, lines);
      const value = lines[0]!;
      t.check(IMF_FIXDATE.test(value), `${what}: Date is an RFC 1123 (IMF-fixdate) date`, value);
      const skew = Math.abs(Date.parse(value) - Date.now());
      t.check(skew <= FIVE_MINUTES_MS, `${what}: Date is within five minutes of now`, `${value} (${Math.round(skew / 1000)} s off)`);
    };

    const served = await t.send({ as: "participant-a", token });
    t.expectStatus(served, 200);
    date(served, "served request");

    const noToken = await t.send({ as: "participant-a" });
    await t.expectRejected(noToken, { status: 401, code: "TOKEN_MISSING" });
    date(noToken, "401 TOKEN_MISSING");

    const noId = await t.send({ as: "participant-a", token, interactionId: false });
    await t.expectRejected(noId, { status: 400, code: "INTERACTION_ID_INVALID" });
    date(noId, "400 INTERACTION_ID_INVALID");

    const noCertificate = await t.send({ as: null, token });
    await t.expectRejected(noCertificate, { status: 401, code: "CERT_REQUIRED", orHandshakeRefused: true });
    if (noCertificate.status !== 0) date(noCertificate, "401 CERT_REQUIRED");
  },
});
