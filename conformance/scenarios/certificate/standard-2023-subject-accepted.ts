import { X509Certificate } from "node:crypto";
import { headerValues } from "../../../src/conformance/context.js";
import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "standard-2023-subject-accepted",
  area: "certificate",
  title: "A participant whose certificate follows the 2023 subject standard (organizationIdentifier OFBBR-…) is accepted, and the backend receives its organisation id, software statement id, CNPJ and thumbprint",
  origin: [
    "OFB certificate standard 2.1 (Padrão de Certificados Open Finance Brasil 2.1, client certificate subject): organizationIdentifier = OFBBR-<OrganisationId>, UID = software statement id, serialNumber = CNPJ; RFC 4514 order fixed on 2023-01-19",
    "OIDF conformance suite condition/client/AbstractFAPIBrazilExtractCertificateSubject: org id = organizationIdentifier after the first '-', software id = UID",
    "docs/architecture.md, decision D9: derived identity headers — profiles/ofb-identity.json (x-ofb-organisation-id, x-ofb-software-statement-id, x-ofb-cnpj, x-ofb-x5t-s256)",
    "RFC 8705 §3.1: x5t#S256 = base64url(SHA-256(DER certificate))",
  ],
  requires: ["client", "token", "recorder"],
  async run(t) {
    const a = t.client("participant-a");
    const organizationIdentifier = /^organizationIdentifier=(.*)$/m.exec(new X509Certificate(a.leaf).subject)?.[1] ?? "";
    if (!organizationIdentifier.startsWith("OFBBR-")) t.skipScenario("participant-a's certificate has no OFBBR- organizationIdentifier (not a 2023-standard subject)");
    const res = await t.send({ as: "participant-a", token: await t.boundToken("participant-a") });
    t.expectStatus(res, 200);
    const got = await t.forwarded(res);
    const expected: [string, string | null][] = [
      ["x-ofb-organisation-id", a.organisationId],
      ["x-ofb-software-statement-id", a.softwareStatementId],
      ["x-ofb-cnpj", a.cnpj],
      ["x-ofb-x5t-s256", a.thumbprint],
    ];
    for (const [name, value] of expected) {
      const values = headerValues(got, name);
      t.check(value !== null && values.length === 1 && values[0] === value, `the backend received exactly one ${name}: ${value}`, values);
    }
    t.check(organizationIdentifier === `OFBBR-${a.organisationId}`, "the organisation id is the organizationIdentifier without its OFBBR- prefix", organizationIdentifier);
  },
});
