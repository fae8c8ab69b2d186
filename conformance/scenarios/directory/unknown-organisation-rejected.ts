import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "unknown-organisation-rejected",
  area: "directory",
  title: "A valid certificate whose organisation is not in the OFB Directory is refused (403 DIRECTORY_ORG_UNKNOWN) and nothing is forwarded",
  origin: [
    "ofb-facts §1.1: /participants lists every organisation by OrganisationId; the certificate's organisation id is its key (ofb-facts §4.2)",
    "OIDF conformance suite condition/rs/FAPIBrazilFetchClientOrganizationJwksFromDirectory: the client's organisation, taken from its certificate, is looked up in the Directory",
    "DESIGN §4 and D6 (ofb-facts §12): the organisation must exist and be Active; anything unknown fails closed",
  ],
  requires: ["test-pki", "token"],
  async run(t) {
    const res = await t.send({ as: "participant-unknown-org", token: await t.boundToken("participant-a") });
    await t.expectRejected(res, { status: 403, code: "DIRECTORY_ORG_UNKNOWN" });
  },
});
