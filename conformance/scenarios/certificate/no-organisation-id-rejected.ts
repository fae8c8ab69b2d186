import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "no-organisation-id-rejected",
  area: "certificate",
  title: "A client certificate with neither organizationIdentifier nor a legacy OU organisation id is rejected (401 IDENTITY_ORGANISATION_MISSING) and nothing is forwarded",
  origin: [
    "OFB certificate standard 2.1: organizationIdentifier (2.5.4.97) = OFBBR-<OrganisationId>, or OU = <OrganisationId> for certificates issued up to 2022-08-31",
    "OIDF conformance suite condition/client/AbstractFAPIBrazilExtractCertificateSubject: the org id comes from organizationIdentifier or OU",
    "OFB certificate standard 2.1: the v10 transport leaf carries the organisation id in its subject (no ICP-Brasil otherNames)",
    "docs/architecture.md §Participant identity: 2.5.4.97 OFBBR-<orgId> or legacy OU → organisation id",
  ],
  requires: ["test-pki", "token"],
  async run(t) {
    const res = await t.send({ as: "no-org-id", token: await t.boundToken("participant-a") });
    await t.expectRejected(res, { status: 401, code: "IDENTITY_ORGANISATION_MISSING", orHandshakeRefused: true });
  },
});
