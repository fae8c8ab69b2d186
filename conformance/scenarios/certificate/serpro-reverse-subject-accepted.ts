import { X509Certificate } from "node:crypto";
import { headerValues } from "../../../src/conformance/context.js";
import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "serpro-reverse-subject-accepted",
  area: "certificate",
  title: "A payment initiator whose certificate lists its subject in reverse order (Serpro style) with an alphanumeric CNPJ is accepted on a payments API, and the backend receives its identity and its PAGTO role",
  origin: [
    "BRCACs issued by Autoridade Certificadora do SERPRO SSLv1 and AC SOLUTI SSL EV G4 carry the subject in reverse RDN order, businessCategory 'Business Entity'; OFB certificate standard ID2 §9: older subject forms stay valid — parse by OID, never compare whole DN strings",
    "IN RFB nº 2.229/2024: alphanumeric CNPJ from July 2026, e.g. 12ABC34501DE35",
    "2021 production /participants data: AuthorisationDomain may carry a trailing space ('Open Banking Brasil ') — decide on Role and Status only; OFB DCR v2.1.0 §7.2 (our reading): payment families need an Active PAGTO claim",
    "docs/architecture.md, decision D9: derived identity headers — profiles/ofb-identity.json (x-ofb-roles: the Active roles)",
  ],
  requires: ["test-pki", "token-issuer", "recorder"],
  async run(t) {
    const c = t.client("participant-c");
    const subject = new X509Certificate(c.leaf).subject;
    t.check(/^CN=/.test(subject) && /^businessCategory=Business Entity$/m.test(subject), "precondition: participant-c's subject starts with CN (reverse order) and is a Business Entity", subject);
    t.check(/^[0-9A-Z]{12}[0-9]{2}$/.test(c.cnpj ?? "") && /[A-Z]/.test(c.cnpj ?? ""), "precondition: participant-c's CNPJ is alphanumeric", c.cnpj);
    const token = await t.issuer.jwt({ thumbprint: c.thumbprint, claims: { client_id: c.softwareStatementId, scope: "openid payments" } });
    const res = await t.send({ as: "participant-c", path: t.paths.payments, token });
    t.expectStatus(res, 200);
    const got = await t.forwarded(res);
    const expected: [string, string | null][] = [
      ["x-ofb-organisation-id", c.organisationId],
      ["x-ofb-software-statement-id", c.softwareStatementId],
      ["x-ofb-cnpj", c.cnpj],
      ["x-ofb-x5t-s256", c.thumbprint],
      ["x-ofb-roles", "PAGTO"],
    ];
    for (const [name, value] of expected) {
      const values = headerValues(got, name);
      t.check(value !== null && values.length === 1 && values[0] === value, `the backend received exactly one ${name}: ${value}`, values);
    }
  },
});
