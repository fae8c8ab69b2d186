import type { Exchange } from "../../../src/conformance/context.js";
import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "interaction-id-on-every-response",
  area: "headers",
  title: "Every response — served or refused by the edge, on the Open Finance and the public route — carries exactly one x-fapi-interaction-id line holding a UUID",
  origin: [
    "FAPI 1 Part 1 §6.2.1: the resource server shall set the response header x-fapi-interaction-id",
    "OpenBanking-Brasil/specs-seguranca #142, areadesenvolvedor #185, #213: the response header must always be returned; send it on every response, errors included",
    "OIDF conformance suite: CheckForFAPIInteractionIdInResourceResponse (present and UUID.fromString parses it)",
  ],
  requires: ["client", "token"],
  async run(t) {
    const token = await t.boundToken("participant-a");
    const one = (res: Exchange, what: string) => {
      const lines = res.rawHeaders.filter(([k]) => k.toLowerCase() === "x-fapi-interaction-id");
      t.check(lines.length === 1, `${what}: exactly one x-fapi-interaction-id line`, lines);
      t.expectInteractionId(res, { echoed: res.interactionId !== undefined });
    };
    const served = await t.send({ as: "participant-a", token });
    t.expectStatus(served, 200);
    one(served, "served request");

    const publicRoute = await t.send({ as: null, path: t.paths.public });
    t.expectStatus(publicRoute, 200);
    one(publicRoute, "public route");

    const noToken = await t.send({ as: "participant-a" });
    await t.expectRejected(noToken, { status: 401, code: "TOKEN_MISSING" });
    one(noToken, "401 TOKEN_MISSING");

    const noId = await t.send({ as: "participant-a", token, interactionId: false });
    await t.expectRejected(noId, { status: 400, code: "INTERACTION_ID_INVALID" });
    one(noId, "400 INTERACTION_ID_INVALID");

    const dotSegment = await t.send({ as: "participant-a", token, path: `${t.paths.accounts}/%2e%2e/x` });
    await t.expectRejected(dotSegment, { status: 400, code: "REQUEST_PATH_INVALID" });
    one(dotSegment, "400 REQUEST_PATH_INVALID");
  },
});
