import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "withdrawn-organisation-rejected",
  area: "directory",
  title: "A participant whose organisation has Withdrawn from the OFB Directory is refused (403 DIRECTORY_ORG_WITHDRAWN) even though its certificate is still valid, and nothing is forwarded",
  origin: [
    "OFB Directory swagger_participants.yaml v1.1.0: Organisation Status is Active | Pending | Withdrawn",
    "docs/architecture.md §Directory: only an Active organisation reaches the APIs",
  ],
  requires: ["test-pki", "token"],
  async run(t) {
    const res = await t.send({ as: "participant-withdrawn", token: await t.boundToken("participant-a") });
    await t.expectRejected(res, { status: 403, code: "DIRECTORY_ORG_WITHDRAWN" });
  },
});
