import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "open-insurance-certificate-rejected",
  area: "certificate",
  title: "An Open Insurance certificate (organizationIdentifier OPIBR-…) is rejected by the Open Finance edge (401 IDENTITY_OPEN_INSURANCE_NOT_ALLOWED) and nothing is forwarded",
  origin: [
    "docs/architecture.md, decision D8: OPIBR- (Open Insurance) certificates are rejected unless configured",
    "OFB certificate standard 2.1: the only OFB prefix is OFBBR-; OPIBR- marks Open Insurance Brasil, a separate directory (OIDF FAPIBrazilOpenInsuranceVerifyCertificateSubjectOrganizationIdentifier)",
  ],
  requires: ["test-pki", "token"],
  async run(t) {
    const res = await t.send({ as: "open-insurance", token: await t.boundToken("participant-a") });
    await t.expectRejected(res, { status: 401, code: "IDENTITY_OPEN_INSURANCE_NOT_ALLOWED", orHandshakeRefused: true });
  },
});
