import { headerValues } from "../../../src/conformance/context.js";
import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "unverified-cnpj-flagged",
  area: "certificate",
  title:
    "A participant whose certificate CNPJ (subject serialNumber) fails its check digits, as the OFB sandbox's own client certificates do, is forwarded marked unverified (x-ofb-cnpj-verified: false, policy.cnpj flag) and a client's own x-ofb-cnpj-verified never reaches the backend",
  origin: [
    "OFB certificate standard 2.1 §5.2.2.1: serialNumber (2.5.4.5) = the CNPJ; the participant is its organisationIdentifier (or OU) and UID",
    "IN RFB nº 2.229/2024: a CNPJ ends in two mod-11 check digits over its 12 base characters",
    "OFB sandbox client certificates carry serialNumber=1335323600189 (13 digits; OpenID conformance suite, FAPIBrazilExtractClientMTLSCertificateSubject_UnitTest)",
  ],
  requires: ["test-pki", "token", "recorder"],
  async run(t) {
    const client = t.client("cnpj-invalid");
    const res = await t.send({ as: "cnpj-invalid", token: await t.boundToken("cnpj-invalid"), headers: { "x-ofb-cnpj-verified": "true" } });
    t.expectStatus(res, 200);
    const got = await t.forwarded(res);
    const cnpj = headerValues(got, "x-ofb-cnpj");
    const verified = headerValues(got, "x-ofb-cnpj-verified");
    t.check(client.cnpj !== null && cnpj.length === 1 && cnpj[0] === client.cnpj, `the backend received the certificate's CNPJ as sent: ${client.cnpj}`, cnpj);
    t.check(verified.length === 1 && verified[0] === "false", "the backend received exactly one x-ofb-cnpj-verified: false", verified);
  },
});
