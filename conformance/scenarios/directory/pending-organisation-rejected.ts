import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "pending-organisation-rejected",
  area: "directory",
  title: "A participant whose organisation is Pending in the OFB Directory is refused (403 DIRECTORY_ORG_PENDING) and nothing is forwarded",
  origin: [
    "OFB Directory swagger_participants.yaml v1.1.0: Organisation Status is Active | Pending | Withdrawn",
    "docs/architecture.md §Directory: only an Active organisation reaches the APIs",
  ],
  requires: ["test-pki", "token"],
  async run(t) {
    const res = await t.send({ as: "participant-pending", token: await t.boundToken("participant-a") });
    await t.expectRejected(res, { status: 403, code: "DIRECTORY_ORG_PENDING" });
  },
});
