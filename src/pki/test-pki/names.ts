import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { AsnConvert } from "@peculiar/asn1-schema";
import { AttributeTypeAndValue, AttributeValue, Name, RelativeDistinguishedName } from "@peculiar/asn1-x509";

/** Subject attribute OIDs of the OFB client certificate (OFB certificate standard 2.1). */
export const OID = {
  commonName: "2.5.4.3",
  serialNumber: "2.5.4.5",
  countryName: "2.5.4.6",
  localityName: "2.5.4.7",
  stateOrProvinceName: "2.5.4.8",
  organizationName: "2.5.4.10",
  organizationalUnitName: "2.5.4.11",
  businessCategory: "2.5.4.15",
  organizationIdentifier: "2.5.4.97",
  uid: "0.9.2342.19200300.100.1.1",
  jurisdictionCountryName: "1.3.6.1.4.1.311.60.2.1.3",
} as const;

/** The ASN.1 string type of an attribute value: UTF8String (tag 0x0C) or PrintableString (tag 0x13). */
export type StringEncoding = "utf8" | "printable";

/** One single-valued RDN with an explicit string type. */
export interface TypedAttribute {
  readonly type: string;
  readonly value: string;
  readonly encoding: StringEncoding;
}

/**
 * Encodes RDNs, in DER order, with @peculiar/asn1-x509 so each value keeps its declared tag.
 * @peculiar/x509's JSON form turns every plain string matching the PrintableString alphabet into a
 * PrintableString, so a bare JSON name cannot express "UTF8String" for ASCII values.
 */
export function encodeName(derOrder: readonly TypedAttribute[]): x509.Name {
  const rdns = derOrder.map(
    (attribute) =>
      new RelativeDistinguishedName([
        new AttributeTypeAndValue({
          type: attribute.type,
          value: new AttributeValue(
            attribute.encoding === "printable" ? { printableString: attribute.value } : { utf8String: attribute.value },
          ),
        }),
      ]),
  );
  return new x509.Name(AsnConvert.serialize(new Name(rdns)));
}

/**
 * Subject layouts seen in real OFB transport certificates, written in RFC 4514 order (most specific first: the
 * reverse of the DER sequence): the OFB certificate standard's forms and those real AC-issued subjects show.
 * - `standard-2023`: the order fixed on 2023-01-19 (CN, UID, 2.5.4.97, L, ST, O, C, serialNumber, jurisdictionC, businessCategory).
 * - `serpro-reverse`: the same attributes reversed, as Serpro and Soluti G4 issue them.
 * - `soluti-legacy-ou`: Soluti before 2022-08-31, organisation id in `OU`, every value PrintableString.
 */
export type SubjectLayout = "standard-2023" | "serpro-reverse" | "soluti-legacy-ou";

/** The participant data written into an OFB client certificate subject. */
export interface OfbSubjectFields {
  readonly commonName: string;
  /** Software statement id (`UID`); `null` omits the attribute. */
  readonly softwareStatementId: string | null;
  /** Organisation id; `null` omits both `2.5.4.97` and the legacy `OU`. */
  readonly organisationId: string | null;
  /** Prefix of `2.5.4.97`; `OPIBR-` marks an Open Insurance Brasil certificate. Default `OFBBR-`. */
  readonly organisationIdPrefix?: string;
  readonly cnpj: string;
  readonly organizationName: string;
  readonly locality: string;
  readonly state: string;
  /** Default `Private Organization`. */
  readonly businessCategory?: string;
  /** Default `standard-2023`. */
  readonly layout?: SubjectLayout;
}

/**
 * Builds an OFB client certificate subject (OFB certificate standard 2.1). UTF8String everywhere except `C`,
 * `serialNumber` and `jurisdictionC` (PrintableString, as the standard lists them); the legacy layout is
 * PrintableString throughout, as pre-2022 certificates were.
 */
export function ofbSubject(fields: OfbSubjectFields): x509.Name {
  const layout = fields.layout ?? "standard-2023";
  const text: StringEncoding = layout === "soluti-legacy-ou" ? "printable" : "utf8";
  const organisation =
    fields.organisationId === null
      ? null
      : layout === "soluti-legacy-ou"
        ? { type: OID.organizationalUnitName, value: fields.organisationId, encoding: text }
        : {
            type: OID.organizationIdentifier,
            value: `${fields.organisationIdPrefix ?? "OFBBR-"}${fields.organisationId}`,
            encoding: text,
          };
  const uid = fields.softwareStatementId === null ? null : { type: OID.uid, value: fields.softwareStatementId, encoding: text };
  const cn = { type: OID.commonName, value: fields.commonName, encoding: text };
  const l = { type: OID.localityName, value: fields.locality, encoding: text };
  const st = { type: OID.stateOrProvinceName, value: fields.state, encoding: text };
  const o = { type: OID.organizationName, value: fields.organizationName, encoding: text };
  const c = { type: OID.countryName, value: "BR", encoding: "printable" as const };
  const serial = { type: OID.serialNumber, value: fields.cnpj, encoding: "printable" as const };
  const jurisdiction = { type: OID.jurisdictionCountryName, value: "BR", encoding: "printable" as const };
  const category = { type: OID.businessCategory, value: fields.businessCategory ?? "Private Organization", encoding: text };

  const standard: (TypedAttribute | null)[] = [cn, uid, organisation, l, st, o, c, serial, jurisdiction, category];
  const rfc4514Order =
    layout === "standard-2023"
      ? standard
      : layout === "serpro-reverse"
        ? [...standard].reverse()
        : [jurisdiction, category, uid, cn, serial, organisation, l, st, o, c];
  return encodeName(rfc4514Order.filter((a): a is TypedAttribute => a !== null).reverse());
}

/** A CA or server name in DER order (C first), C as PrintableString and the rest UTF8String, like the ICP-Brasil roots. */
export function caName(rdns: { readonly organization: string; readonly organizationalUnits?: readonly string[]; readonly commonName: string }): x509.Name {
  return encodeName([
    { type: OID.countryName, value: "BR", encoding: "printable" },
    { type: OID.organizationName, value: rdns.organization, encoding: "utf8" },
    ...(rdns.organizationalUnits ?? []).map((ou) => ({ type: OID.organizationalUnitName, value: ou, encoding: "utf8" as const })),
    { type: OID.commonName, value: rdns.commonName, encoding: "utf8" },
  ]);
}

/**
 * The same name with every attribute value re-encoded as `encoding` (DER order and attribute types kept): the
 * issuer field real ACs write into their certificates is not always their subject's bytes (RFC 5280 §7.1
 * compares the two as equal).
 */
export function reencodeName(name: x509.Name, encoding: StringEncoding): x509.Name {
  const rdns = AsnConvert.parse(name.toArrayBuffer(), Name);
  return encodeName(rdns.map((rdn) => ({ type: rdn[0]!.type, value: rdn[0]!.value.toString(), encoding })));
}

/** The subject of an e-CNPJ certificate (legal entity, under the v5 hierarchy): ICP-Brasil OUs and CN `RAZAO SOCIAL:CNPJ`. */
export function eCnpjSubject(fields: { readonly razaoSocial: string; readonly cnpj: string; readonly registrationAuthorityCnpj: string }): x509.Name {
  const utf8 = (type: string, value: string): TypedAttribute => ({ type, value, encoding: "utf8" });
  return encodeName([
    { type: OID.countryName, value: "BR", encoding: "printable" },
    utf8(OID.organizationName, "ICP-Brasil"),
    utf8(OID.stateOrProvinceName, "SP"),
    utf8(OID.localityName, "Sao Paulo"),
    utf8(OID.organizationalUnitName, "Secretaria da Receita Federal do Brasil - RFB"),
    utf8(OID.organizationalUnitName, fields.registrationAuthorityCnpj),
    utf8(OID.organizationalUnitName, "presencial"),
    utf8(OID.organizationalUnitName, "RFB e-CNPJ A1"),
    utf8(OID.commonName, `${fields.razaoSocial}:${fields.cnpj}`),
  ]);
}

/**
 * The subject of a BRSEAL-like signing certificate (OFB certificate standard, "Certificado de Assinatura"): `UID` =
 * the organisation id, `C=BR`, `O=ICP-Brasil`, the ICP-Brasil OUs and `CN` = the legal name, in DER order.
 */
export function signingSubject(fields: { readonly organisationId: string; readonly legalName: string; readonly cnpj: string }): x509.Name {
  const utf8 = (type: string, value: string): TypedAttribute => ({ type, value, encoding: "utf8" });
  return encodeName([
    { type: OID.countryName, value: "BR", encoding: "printable" },
    utf8(OID.organizationName, "ICP-Brasil"),
    utf8(OID.organizationalUnitName, "Secretaria da Receita Federal do Brasil - RFB"),
    utf8(OID.organizationalUnitName, "RFB e-CNPJ A1"),
    utf8(OID.organizationalUnitName, fields.cnpj),
    utf8(OID.uid, fields.organisationId),
    utf8(OID.commonName, fields.legalName),
  ]);
}
