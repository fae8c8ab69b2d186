import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "directory-unavailable-beyond-staleness",
  area: "directory",
  title: "When the OFB Directory has been unreachable for longer than the configured staleness limit, an accepted participant is refused (503 DIRECTORY_UNAVAILABLE) rather than let through, and nothing is forwarded",
  origin: [
    "docs/architecture.md, decision D5: Directory unreachable — serve a bounded stale snapshot, then fail closed (Raidiam's OFB conformance wiki: the Directory data API is itself a dump cached 15 minutes)",
    "ofb-edge README §directory maxStalenessMs: beyond it checked routes answer 503 DIRECTORY_UNAVAILABLE — never fail open",
    "RFC 9110 §10.2.3: a Retry-After sent with 503 is delay-seconds or an HTTP-date",
  ],
  requires: ["client", "directory-outage"],
  async run(t) {
    // The outage edge (no authorization server): served from a fresh snapshot first, then its Directory is taken
    // away and its clock moved past maxStalenessMs.
    const outage = await t.directoryOutage();
    const before = await t.send({ as: "participant-a", port: outage.port });
    t.expectStatus(before, 200);
    await outage.begin();
    const res = await t.send({ as: "participant-a", port: outage.port });
    await t.expectRejected(res, { status: 503, code: "DIRECTORY_UNAVAILABLE" });
    const retryAfter = res.headers["retry-after"];
    t.check(retryAfter !== undefined && (/^\d+$/.test(retryAfter) || !Number.isNaN(Date.parse(retryAfter))), "a Retry-After of delay-seconds or an HTTP-date", retryAfter);
  },
});
