import type { webcrypto } from "node:crypto";
import { X509Certificate } from "node:crypto";
import { GeneralName } from "@peculiar/asn1-x509";
import { beforeAll, describe, expect, it } from "vitest";
import { parseIdentity } from "../../src/identity/index.js";
import { OID, generateKeys, issueLeaf, nameDer, type Attribute, type StringType } from "./certificates.js";

const ORG = "79717d71-0cf4-58f6-b2d0-370d5404d383";
const UID = "9a4c69f8-3ed6-4641-87de-9354bb8bb69a";
const HOST = "matls-banking-openfinance.rico.com.vc";
const OFB = { allowOpenInsurance: false } as const;

/** The 2023-01-19 standard order (OFB certificate standard 2.1), in DER order: least specific first. */
function ofbSubject(overrides: Partial<Record<keyof typeof OID, string | null>> = {}, type: StringType = "utf8String"): Attribute[] {
  const values: [keyof typeof OID, string][] = [
    ["businessCategory", "Private Organization"],
    ["jurisdictionC", "BR"],
    ["serialNumber", "33264668000103"],
    ["C", "BR"],
    ["O", "BANCO XP S A"],
    ["ST", "RJ"],
    ["L", "Rio de Janeiro"],
    ["organizationIdentifier", `OFBBR-${ORG}`],
    ["UID", UID],
    ["CN", HOST],
  ];
  return values.flatMap(([key, value]) => {
    const chosen = key in overrides ? overrides[key] : value;
    return chosen === null || chosen === undefined ? [] : [[OID[key], chosen, type] as Attribute];
  });
}

let keys: webcrypto.CryptoKeyPair;
beforeAll(async () => {
  keys = await generateKeys();
});

async function identityOf(rdns: readonly Attribute[], allowOpenInsurance = false, cnpj?: "flag" | "refuse") {
  return parseIdentity(await issueLeaf(keys, { subject: nameDer(rdns) }), { allowOpenInsurance, ...(cnpj ? { cnpj } : {}) });
}

describe("parseIdentity: the OFB subject formats", () => {
  it("reads the post-2022 organizationIdentifier form with every field", async () => {
    const der = await issueLeaf(keys, {
      subject: nameDer(ofbSubject()),
      serialNumber: "4f1a",
      notBefore: new Date("2023-08-01T12:00:00Z"),
      notAfter: new Date("2024-08-01T12:00:00Z"),
      subjectAltNames: [
        new GeneralName({ dNSName: HOST }),
        new GeneralName({ uniformResourceIdentifier: "https://rico.com.vc/" }),
      ],
    });
    const result = parseIdentity(der, OFB);
    expect(result).toEqual({
      ok: true,
      identity: {
        organisationId: ORG,
        organisationIdSource: "organizationIdentifier",
        organisationIdPrefix: "OFBBR",
        softwareStatementId: UID,
        cnpj: "33264668000103",
        cnpjVerified: true,
        commonName: HOST,
        dnsNames: [HOST],
        uris: ["https://rico.com.vc/"],
        subjectDn:
          `CN=${HOST},UID=${UID},organizationIdentifier=OFBBR-${ORG},L=Rio de Janeiro,ST=RJ,O=BANCO XP S A,C=BR,` +
          "serialNumber=33264668000103,jurisdictionC=BR,businessCategory=Private Organization",
        issuerDn: "CN=Test Issuing CA,C=BR",
        serialNumber: "4F1A",
        notBefore: new Date("2023-08-01T12:00:00Z"),
        notAfter: new Date("2024-08-01T12:00:00Z"),
        otherNames: null,
      },
    });
    expect(Object.isFrozen(result.ok && result.identity)).toBe(true);
  });

  it("reads the Serpro reverse RDN order the same way", async () => {
    const result = await identityOf(ofbSubject({ businessCategory: "Business Entity" }).reverse());
    expect(result).toMatchObject({ ok: true, identity: { organisationId: ORG, softwareStatementId: UID, cnpj: "33264668000103" } });
    expect(result.ok && result.identity.subjectDn.startsWith("businessCategory=Business Entity,jurisdictionC=BR,")).toBe(true);
  });

  it("reads the legacy OU form of the Soluti pre-2022 certificate", async () => {
    const result = await identityOf([
      [OID.C, "BR", "printableString"],
      [OID.O, "SOLUTI - SOLUCOES EM NEGOCIOS INTELIGENTES S/A"],
      [OID.ST, "GO"],
      [OID.L, "Goiania"],
      [OID.OU, "de2f3928-5b1a-4c6e-9d07-3f8a2b4c6d10"],
      [OID.serialNumber, "09461647000195", "printableString"],
      [OID.CN, "openbanking.acsoluti.com.br"],
      [OID.UID, "c01a9251-0b7e-4f3c-a2d4-6e8f0a1b2c3d"],
      [OID.businessCategory, "Private Organization"],
      [OID.jurisdictionC, "BR", "printableString"],
    ]);
    expect(result).toMatchObject({
      ok: true,
      identity: {
        organisationId: "de2f3928-5b1a-4c6e-9d07-3f8a2b4c6d10",
        organisationIdSource: "OU",
        organisationIdPrefix: null,
        softwareStatementId: "c01a9251-0b7e-4f3c-a2d4-6e8f0a1b2c3d",
        cnpj: "09461647000195",
        commonName: "openbanking.acsoluti.com.br",
      },
    });
  });

  it("reads the Nubank order with PrintableString values and São Paulo", async () => {
    const result = await identityOf([
      [OID.C, "BR", "printableString"],
      [OID.ST, "SP"],
      [OID.L, "São Paulo"],
      [OID.O, "NU PAGAMENTOS S.A."],
      [OID.OU, "926e3037-a685-553c-afa3-f7cb46ff8084"],
      [OID.CN, "*.nubank.com.br"],
      [OID.serialNumber, "18236120000158", "printableString"],
      [OID.businessCategory, "Private Organization", "printableString"],
      [OID.jurisdictionC, "BR", "printableString"],
      [OID.UID, "812b577d-3c0e-4d5f-9a1b-2c3d4e5f6a7b"],
    ]);
    expect(result).toMatchObject({
      ok: true,
      identity: { organisationId: "926e3037-a685-553c-afa3-f7cb46ff8084", organisationIdSource: "OU", cnpj: "18236120000158" },
    });
    expect(result.ok && result.identity.subjectDn).toContain(",L=São Paulo,");
  });

  it.each(["printableString", "bmpString", "teletexString", "universalString"] as const)(
    "reads every attribute when all are %s",
    async (type) => {
      const subject = nameDer(ofbSubject({}, type));
      const der = await issueLeaf(keys, { subject });
      expect(Buffer.from(der).includes(Buffer.from(subject))).toBe(true);
      const result = parseIdentity(der, OFB);
      expect(result).toMatchObject({ ok: true, identity: { organisationId: ORG, softwareStatementId: UID, cnpj: "33264668000103" } });
    },
  );

  it("keeps the case of the organisation id as in the certificate", async () => {
    const upper = ORG.toUpperCase();
    const result = await identityOf(ofbSubject({ organizationIdentifier: `OFBBR-${upper}` }));
    expect(result).toMatchObject({ ok: true, identity: { organisationId: upper } });
  });

  it("picks the OU holding a UUID when there are several OUs", async () => {
    const result = await identityOf([
      [OID.OU, "Open Finance"],
      [OID.OU, "926e3037-a685-553c-afa3-f7cb46ff8084"],
      [OID.OU, "AC SOLUTI"],
      [OID.UID, UID],
    ]);
    expect(result).toMatchObject({ ok: true, identity: { organisationId: "926e3037-a685-553c-afa3-f7cb46ff8084", organisationIdSource: "OU" } });
  });

  it("reads an identity spread over a multi-valued RDN", async () => {
    const der = await issueLeaf(keys, {
      subject: nameDer([[OID.C, "BR", "printableString"], [[OID.UID, UID], [OID.organizationIdentifier, `OFBBR-${ORG}`]]]),
    });
    const result = parseIdentity(der, OFB);
    expect(result).toMatchObject({ ok: true, identity: { organisationId: ORG, softwareStatementId: UID, cnpj: null, commonName: null } });
    expect(result.ok && result.identity.subjectDn).toBe(`organizationIdentifier=OFBBR-${ORG}+UID=${UID},C=BR`);
  });
});

describe("parseIdentity: rejections name the rule", () => {
  it("rejects a missing or empty UID", async () => {
    expect(await identityOf(ofbSubject({ UID: null }))).toMatchObject({ ok: false, code: "IDENTITY_SOFTWARE_STATEMENT_MISSING" });
    expect(await identityOf(ofbSubject({ UID: " " }))).toMatchObject({ ok: false, code: "IDENTITY_SOFTWARE_STATEMENT_MISSING" });
  });

  it("fails closed on two different UIDs or organizationIdentifiers, naming the attribute", async () => {
    const twoUids = await identityOf([...ofbSubject(), [OID.UID, "00000000-0000-4000-8000-000000000000"]]);
    expect(twoUids).toMatchObject({ ok: false, code: "CERT_MALFORMED" });
    expect(!twoUids.ok && twoUids.detail).toContain("UID");
    const twoOrgs = await identityOf([...ofbSubject(), [OID.organizationIdentifier, "OFBBR-00000000-0000-4000-8000-000000000000"]]);
    expect(twoOrgs).toMatchObject({ ok: false, code: "CERT_MALFORMED" });
    expect(!twoOrgs.ok && twoOrgs.detail).toContain("organizationIdentifier");
  });

  it("accepts the same UID repeated", async () => {
    expect(await identityOf([...ofbSubject(), [OID.UID, UID]])).toMatchObject({ ok: true, identity: { softwareStatementId: UID } });
  });

  it("rejects a subject with neither organizationIdentifier nor OU", async () => {
    expect(await identityOf(ofbSubject({ organizationIdentifier: null }))).toMatchObject({
      ok: false,
      code: "IDENTITY_ORGANISATION_MISSING",
    });
  });

  it("rejects OPIBR- unless Open Insurance is allowed", async () => {
    const subject = ofbSubject({ organizationIdentifier: `OPIBR-${ORG}` });
    expect(await identityOf(subject)).toMatchObject({ ok: false, code: "IDENTITY_OPEN_INSURANCE_NOT_ALLOWED" });
    expect(await identityOf(subject, true)).toMatchObject({
      ok: true,
      identity: { organisationId: ORG, organisationIdPrefix: "OPIBR", organisationIdSource: "organizationIdentifier" },
    });
  });

  it.each([`OFBXX-${ORG}`, `ofbbr-${ORG}`, ORG.replaceAll("-", ""), `OFBBR${ORG}`, "OFBBR-not-a-uuid", `OFBBR-${ORG}x`, "OFBBR-"])(
    "rejects organizationIdentifier %s as IDENTITY_ORGANISATION_INVALID",
    async (value) => {
      expect(await identityOf(ofbSubject({ organizationIdentifier: value }))).toMatchObject({
        ok: false,
        code: "IDENTITY_ORGANISATION_INVALID",
      });
    },
  );

  it("rejects a legacy OU that holds no UUID, and two UUID OUs", async () => {
    expect(await identityOf([[OID.OU, "Open Banking"], [OID.UID, UID]])).toMatchObject({ ok: false, code: "IDENTITY_ORGANISATION_INVALID" });
    expect(await identityOf([[OID.OU, "a"], [OID.OU, "b"], [OID.UID, UID]])).toMatchObject({ ok: false, code: "IDENTITY_ORGANISATION_INVALID" });
    expect(
      await identityOf([[OID.OU, ORG], [OID.OU, "926e3037-a685-553c-afa3-f7cb46ff8084"], [OID.UID, UID]]),
    ).toMatchObject({ ok: false, code: "CERT_MALFORMED" });
  });

  it("quotes an offending value in the detail without control characters and capped at 100 characters", async () => {
    const hostile = `OFBBR-\r\nX-Injected: 1${"A".repeat(300)}`;
    const result = await identityOf(ofbSubject({ organizationIdentifier: hostile }));
    expect(result).toMatchObject({ ok: false, code: "IDENTITY_ORGANISATION_INVALID" });
    const detail = result.ok ? "" : result.detail;
    expect(detail).not.toMatch(/[\u0000-\u001f\u007f]/);
    expect(detail).toContain('"OFBBR-X-Injected: 1AAA');
    expect(detail).not.toContain("A".repeat(101));
    expect(detail.length).toBeLessThan(200);
  });

  it("verifies the alphanumeric CNPJ 12ABC34501DE35 (IN RFB nº 2.229/2024)", async () => {
    expect(await identityOf(ofbSubject({ serialNumber: "12ABC34501DE35" }))).toMatchObject({ ok: true, identity: { cnpj: "12ABC34501DE35", cnpjVerified: true } });
  });

  it.each(["33.264.668/0001-03", "3326466", "332646680001030", "12abc34501de35", " 33264668000103", "33264668 000103", "3326466800010Ã"])(
    "refuses serialNumber %j, which is not shaped like a CNPJ, whatever policy.cnpj says",
    async (serialNumber) => {
      for (const policy of ["flag", "refuse"] as const) {
        const result = await identityOf(ofbSubject({ serialNumber }), false, policy);
        expect(result, policy).toMatchObject({ ok: false, code: "IDENTITY_CNPJ_INVALID" });
        expect(!result.ok && result.detail).toMatch(/^serialNumber \(2\.5\.4\.5\) ".*" is not a CNPJ \(8 to 14 characters of 0-9 and A-Z\)$/);
      }
    },
  );
});

describe("parseIdentity: a CNPJ that fails its check digits (policy.cnpj)", () => {
  it.each(["33264668000104", "1335323600189", "33264668", "12ABC34501DE"])("flags %s as unverified by default", async (serialNumber) => {
    expect(await identityOf(ofbSubject({ serialNumber }))).toMatchObject({ ok: true, identity: { cnpj: serialNumber, cnpjVerified: false, organisationId: ORG, softwareStatementId: UID } });
  });

  it("refuses it with policy.cnpj refuse, naming the rule", async () => {
    const result = await identityOf(ofbSubject({ serialNumber: "33264668000104" }), false, "refuse");
    expect(result).toEqual({ ok: false, code: "IDENTITY_CNPJ_INVALID", detail: 'serialNumber (2.5.4.5) "33264668000104" fails the CNPJ check digits (policy.cnpj refuse)' });
  });

  it("a valid CNPJ is verified in both modes", async () => {
    for (const policy of ["flag", "refuse"] as const) {
      expect(await identityOf(ofbSubject(), false, policy)).toMatchObject({ ok: true, identity: { cnpj: "33264668000103", cnpjVerified: true } });
    }
  });

  it("matches Node's serial number text", async () => {
    for (const serialNumber of ["01", "0a", "7f", "0080", "00ff01", "1234567890abcdef1234567890abcdef12345678"]) {
      const der = await issueLeaf(keys, { subject: nameDer(ofbSubject()), serialNumber });
      const result = parseIdentity(der, OFB);
      expect(result.ok && result.identity.serialNumber, serialNumber).toBe(new X509Certificate(der).serialNumber);
    }
  });
});
