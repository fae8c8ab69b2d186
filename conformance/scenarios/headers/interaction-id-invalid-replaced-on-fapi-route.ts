import { headerValues } from "../../../src/conformance/context.js";
import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "interaction-id-invalid-replaced-on-fapi-route",
  area: "headers",
  title: "On a public FAPI route (/.well-known/), an invalid x-fapi-interaction-id is never passed on: the request is served with a generated UUID, which both the response and the backend carry",
  origin: [
    "FAPI 1 Part 1 §6.2.1: the response carries the request's id or a new RFC 4122 UUID",
    "OFB API contract accounts 2.4.2: the id is a UUID of at most 36 characters; an invalid one is replaced by a generated one",
    "OIDF conformance suite: CheckForFAPIInteractionIdInResourceResponse — the response id must parse as a UUID",
  ],
  requires: ["recorder"],
  async run(t) {
    const invalid = "not-a-uuid<script>";
    const res = await t.send({ as: null, path: t.paths.public, interactionId: false, headers: { "x-fapi-interaction-id": invalid } });
    t.expectStatus(res, 200);
    const id = t.expectInteractionId(res);
    const forwarded = headerValues(await t.forwarded(res), "x-fapi-interaction-id");
    t.check(forwarded.length === 1 && forwarded[0] === id, "the backend received the generated id, once, and not the invalid one", forwarded);
  },
});
