import { AsnConvert } from "@peculiar/asn1-schema";
import { SubjectAlternativeName, id_ce_subjectAltName } from "@peculiar/asn1-x509";
import { attributeValues, readName } from "../identity/dn.js";
import { readIcpBrasilOtherNames } from "../identity/other-names.js";
import { certificateParts } from "../identity/parse.js";
import { sanitizeLabel } from "../pki/certificate.js";

/** Subject attributes the OFB identity is read from (OFB certificate standard, BRCAC subject). */
const SUBJECT_FIELDS: readonly (readonly [string, string])[] = [
  ["CN", "2.5.4.3"],
  ["UID", "0.9.2342.19200300.100.1.1"],
  ["organizationIdentifier", "2.5.4.97"],
  ["OU", "2.5.4.11"],
  ["serialNumber", "2.5.4.5"],
];

const quote = (value: string) => `'${sanitizeLabel(value)}'`;

/**
 * The identity fields of a leaf as the edge reads them, whatever the verdict: the subject attributes by OID,
 * the SubjectAltName DNS names and the ICP-Brasil otherNames of a legal entity (2.16.76.1.3.3 CNPJ, .7 CEI, .8
 * company name). The responsible person's data (.2 name, .4 birth date, CPF, RG) is personal: only its
 * presence is shown. Lines of text; a part that does not parse says so.
 */
export function certificateFields(leafDer: Uint8Array): string[] {
  const parts = certificateParts(leafDer);
  if (parts === null) return ["(the certificate does not parse as X.509)"];
  const subject = readName(parts.subject);
  const found = SUBJECT_FIELDS.flatMap(([label, oid]) => attributeValues(subject, oid).map((v) => `${label} ${quote(v)}`));
  const lines = [`subject ${found.length > 0 ? found.join(", ") : "(none of CN, UID, organizationIdentifier, OU, serialNumber)"}`];
  const san = (parts.certificate.tbsCertificate.extensions ?? []).find((e) => e.extnID === id_ce_subjectAltName);
  if (san === undefined) return lines;
  let names;
  try {
    names = Array.from(AsnConvert.parse(san.extnValue, SubjectAlternativeName));
  } catch {
    return [...lines, "subjectAltName (does not parse)"];
  }
  const dns = names.flatMap((n) => (n.dNSName === undefined ? [] : [quote(n.dNSName)]));
  if (dns.length > 0) lines.push(`subjectAltName DNS ${dns.join(", ")}`);
  let other;
  try {
    other = readIcpBrasilOtherNames(names);
  } catch (err) {
    return [...lines, `ICP-Brasil otherNames unreadable: ${(err as Error).message}`];
  }
  if (other !== null) {
    const shown = [
      other.cnpj === null ? null : `CNPJ (2.16.76.1.3.3) ${quote(other.cnpj)}`,
      other.cei === null ? null : `CEI (2.16.76.1.3.7) ${quote(other.cei)}`,
      other.companyName === null ? null : `company name (2.16.76.1.3.8) ${quote(other.companyName)}`,
      other.responsibleName !== null || other.responsibleData !== null ? "responsible person (2.16.76.1.3.2/.4): present, personal data not shown" : null,
    ].filter((s): s is string => s !== null);
    lines.push(`ICP-Brasil otherNames ${shown.join(", ")}`);
  }
  return lines;
}
