import { X509Certificate } from "node:crypto";
import { headerValues } from "../../../src/conformance/context.js";
import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "legacy-ou-subject-accepted",
  area: "certificate",
  title: "A participant whose certificate carries its organisation id in the legacy OU attribute (certificates issued up to 2022-08-31) is accepted, and the backend receives its organisation id, software statement id, CNPJ and thumbprint",
  origin: [
    "OFB certificate standard 2.1: OU = <OrganisationId>, no prefix, in certificates issued up to 2022-08-31",
    "OFB certificate standard ID2 §9: older subject forms stay valid; participants must not deploy controls that accept only the standardised DN; parse by OID, any DirectoryString type",
    "the Soluti pre-2022 OU subject (OpenBanking-Brasil/specs-seguranca #207); OIDF AbstractFAPIBrazilExtractCertificateSubject reads the org id from OU",
    "docs/architecture.md, decision D9: derived identity headers — profiles/ofb-identity.json",
  ],
  requires: ["second-client", "recorder"],
  async run(t) {
    const b = t.client("participant-b");
    const subject = new X509Certificate(b.leaf).subject;
    const ou = /^OU=(.*)$/m.exec(subject)?.[1];
    if (ou === undefined || /^organizationIdentifier=/m.test(subject)) t.skipScenario("participant-b's certificate is not a legacy OU subject (OU present, no organizationIdentifier)");
    const res = await t.send({ as: "participant-b", token: await t.boundToken("participant-b") });
    t.expectStatus(res, 200);
    const got = await t.forwarded(res);
    const expected: [string, string | null][] = [
      ["x-ofb-organisation-id", b.organisationId],
      ["x-ofb-software-statement-id", b.softwareStatementId],
      ["x-ofb-cnpj", b.cnpj],
      ["x-ofb-x5t-s256", b.thumbprint],
    ];
    for (const [name, value] of expected) {
      const values = headerValues(got, name);
      t.check(value !== null && values.length === 1 && values[0] === value, `the backend received exactly one ${name}: ${value}`, values);
    }
    t.check(ou === b.organisationId, "the organisation id is the OU value", ou);
  },
});
