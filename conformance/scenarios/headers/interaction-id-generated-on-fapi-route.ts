import { headerValues } from "../../../src/conformance/context.js";
import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "interaction-id-generated-on-fapi-route",
  area: "headers",
  title: "On a public FAPI route (/.well-known/), a request without x-fapi-interaction-id is served, and the response and the backend carry the same newly generated UUID",
  origin: [
    "FAPI 1 Part 1 §6.2.1: the resource server sets x-fapi-interaction-id to a new RFC 4122 UUID when none was sent",
    "docs/architecture.md, decision D1: per-route choice, generate-and-serve on /.well-known/ (FAPI 1 Part 1 §6.2.1)",
    "OIDF conformance suite: CheckForFAPIInteractionIdInResourceResponse (FAPI1-BASE-6.2.1-11)",
  ],
  requires: ["recorder"],
  async run(t) {
    const res = await t.send({ as: null, path: t.paths.public, interactionId: false });
    t.expectStatus(res, 200);
    const id = t.expectInteractionId(res);
    const got = await t.forwarded(res);
    const forwarded = headerValues(got, "x-fapi-interaction-id");
    t.check(forwarded.length === 1 && forwarded[0] === id, "the backend received the same generated id, once", forwarded);

    const again = await t.send({ as: null, path: t.paths.public, interactionId: false });
    t.expectStatus(again, 200);
    t.check(t.expectInteractionId(again) !== id, "each request gets its own generated id", again.headers["x-fapi-interaction-id"]);
  },
});
