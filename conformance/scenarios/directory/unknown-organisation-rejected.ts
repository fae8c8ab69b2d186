import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "unknown-organisation-rejected",
  area: "directory",
  title: "A valid certificate whose organisation is not in the OFB Directory is refused (403 DIRECTORY_ORG_UNKNOWN) and nothing is forwarded",
  origin: [
    "OFB Directory swagger_participants.yaml v1.1.0: /participants lists every organisation by OrganisationId; the certificate's organisation id (OFB certificate standard 2.1) is its key",
    "OIDF conformance suite condition/rs/FAPIBrazilFetchClientOrganizationJwksFromDirectory: the client's organisation, taken from its certificate, is looked up in the Directory",
    "docs/architecture.md §Directory and decision D6: the organisation must exist and be Active; anything unknown fails closed",
  ],
  requires: ["test-pki", "token"],
  async run(t) {
    const res = await t.send({ as: "participant-unknown-org", token: await t.boundToken("participant-a") });
    await t.expectRejected(res, { status: 403, code: "DIRECTORY_ORG_UNKNOWN" });
  },
});
