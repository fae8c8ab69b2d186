import { AsnArray, AsnConvert, AsnPropTypes, AsnType, AsnTypeTypes } from "@peculiar/asn1-schema";
import { Certificate, GeneralName, SubjectAlternativeName, id_ce_subjectAltName } from "@peculiar/asn1-x509";
import { EdgeError, type EdgeErrorCode } from "../errors.js";
import { cnpjStatus, type CnpjPolicy } from "./cnpj.js";
import { readDerElement, toUpperHex } from "../pki/der-string.js";
import { attributeValues, formatDn, readName, type DistinguishedName } from "./dn.js";
import { readIcpBrasilOtherNames } from "./other-names.js";
import type { IdentityResult, ParticipantIdentity } from "./types.js";

/** Options of {@link parseIdentity}: the caller states the policy. */
export interface ParseIdentityOptions {
  /** Accept `OPIBR-` (Open Insurance Brasil) organisation identifiers (docs/architecture.md, decision D8). */
  readonly allowOpenInsurance: boolean;
  /**
   * A CNPJ shaped like one (8–14 characters of `[0-9A-Z]`) that fails its check digits: `flag` accepts the
   * identity with `cnpjVerified: false`, `refuse` answers `IDENTITY_CNPJ_INVALID`. Default `flag`, the product
   * default (`policy.cnpj`). A value that is not shaped like a CNPJ is refused either way.
   */
  readonly cnpj?: CnpjPolicy;
}

const OID = {
  uid: "0.9.2342.19200300.100.1.1",
  organizationIdentifier: "2.5.4.97",
  organizationalUnit: "2.5.4.11",
  serialNumber: "2.5.4.5",
  commonName: "2.5.4.3",
} as const;

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const DETAIL_VALUE_MAX = 100;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/gu;

// The TBSCertificate as a SEQUENCE OF ANY, to take issuer and subject as the exact bytes signed.
class RawSequence extends AsnArray<ArrayBuffer> {}
AsnType({ type: AsnTypeTypes.Sequence, itemType: AsnPropTypes.Any })(RawSequence);

type Rejection = Extract<IdentityResult, { readonly ok: false }>;
type Step<T> = { readonly ok: true; readonly value: T } | Rejection;

function reject(code: EdgeErrorCode, detail: string): Rejection {
  return { ok: false, code, detail };
}

/** A peer-controlled value quoted for an operator: no control characters, at most 100 characters. */
function quote(value: string): string {
  const clean = value.replace(CONTROL, "");
  return JSON.stringify(clean.length > DETAIL_VALUE_MAX ? `${clean.slice(0, DETAIL_VALUE_MAX)}…` : clean);
}

/** The one value of `oid`; several distinct values make the identity ambiguous, which fails closed. */
function singleValue(subject: DistinguishedName, oid: string, label: string): Step<string | null> {
  const distinct = [...new Set(attributeValues(subject, oid))];
  if (distinct.length > 1) {
    return reject("CERT_MALFORMED", `subject has ${distinct.length} different ${label} (${oid}) values`);
  }
  return { ok: true, value: distinct[0] ?? null };
}

type Organisation = Pick<ParticipantIdentity, "organisationId" | "organisationIdSource" | "organisationIdPrefix">;

function organisation(subject: DistinguishedName, options: ParseIdentityOptions): Step<Organisation> {
  const identifier = singleValue(subject, OID.organizationIdentifier, "organizationIdentifier");
  if (!identifier.ok) return identifier;
  if (identifier.value !== null) {
    // OFB certificate standard 2.1: organizationIdentifier is `OFBBR-<id>`, split at the first `-` (as the OIDF
    // suite's AbstractFAPIBrazilExtractCertificateSubject does); `OPIBR-` is Open Insurance Brasil.
    const dash = identifier.value.indexOf("-");
    const prefix = dash < 0 ? null : identifier.value.slice(0, dash);
    const id = identifier.value.slice(dash + 1);
    if (prefix === "OPIBR" && !options.allowOpenInsurance) {
      return reject("IDENTITY_OPEN_INSURANCE_NOT_ALLOWED", `organizationIdentifier ${quote(identifier.value)} is Open Insurance (OPIBR)`);
    }
    if (prefix !== "OFBBR" && prefix !== "OPIBR") {
      return reject("IDENTITY_ORGANISATION_INVALID", `organizationIdentifier ${quote(identifier.value)} has no OFBBR- prefix`);
    }
    if (!UUID.test(id)) {
      return reject("IDENTITY_ORGANISATION_INVALID", `organizationIdentifier ${quote(identifier.value)} does not hold a UUID`);
    }
    return { ok: true, value: { organisationId: id, organisationIdSource: "organizationIdentifier", organisationIdPrefix: prefix } };
  }
  // OFB certificate standard 2.1: certificates issued up to 2022-08-31 carry the organisation id, unprefixed, in OU.
  const units = [...new Set(attributeValues(subject, OID.organizationalUnit))];
  if (units.length === 0) {
    return reject("IDENTITY_ORGANISATION_MISSING", "subject has neither organizationIdentifier (2.5.4.97) nor OU (2.5.4.11)");
  }
  const ids = units.length === 1 ? units : units.filter((unit) => UUID.test(unit));
  const [id, ...others] = ids;
  if (others.length > 0) return reject("CERT_MALFORMED", `subject has ${ids.length} OU values holding a UUID`);
  if (id === undefined || !UUID.test(id)) {
    return reject("IDENTITY_ORGANISATION_INVALID", `OU ${quote(units[0] ?? "")} does not hold a UUID organisation id`);
  }
  return { ok: true, value: { organisationId: id, organisationIdSource: "OU", organisationIdPrefix: null } };
}

/**
 * X.509 serial number as Node's `X509Certificate#serialNumber` prints it (OpenSSL `BN_bn2hex`): uppercase
 * hex of the integer without DER's sign-padding zero byte, `-` for a negative value, `0` for zero.
 */
function serialHex(content: Uint8Array): string {
  if (content.length === 0) return "0";
  let value = BigInt(`0x${toUpperHex(content)}`);
  if ((content[0] ?? 0) & 0x80) value -= 1n << BigInt(content.length * 8);
  if (value === 0n) return "0";
  const magnitude = (value < 0n ? -value : value).toString(16).toUpperCase();
  return `${value < 0n ? "-" : ""}${magnitude.length % 2 === 0 ? "" : "0"}${magnitude}`;
}

function subjectAltNames(certificate: Certificate): Step<readonly GeneralName[]> {
  const extensions = (certificate.tbsCertificate.extensions ?? []).filter((e) => e.extnID === id_ce_subjectAltName);
  // RFC 5280 §4.2: a certificate must not include more than one instance of a particular extension.
  if (extensions.length > 1) return reject("CERT_MALFORMED", "certificate has more than one subjectAltName extension");
  const [extension] = extensions;
  if (extension === undefined) return { ok: true, value: [] };
  try {
    return { ok: true, value: Array.from(AsnConvert.parse(extension.extnValue, SubjectAlternativeName)) };
  } catch {
    return reject("CERT_MALFORMED", "subjectAltName extension does not parse (RFC 5280 §4.2.1.6)");
  }
}

function decode(leafDer: Uint8Array): Step<{ certificate: Certificate; issuer: Uint8Array; subject: Uint8Array }> {
  // The certificate must be exactly one DER element: trailing bytes are not ignored.
  if (readDerElement(leafDer)?.encodedLength !== leafDer.length) {
    return reject("CERT_MALFORMED", "certificate is not a single DER element");
  }
  try {
    const certificate = AsnConvert.parse(leafDer, Certificate);
    const tbs = AsnConvert.parse(certificate.tbsCertificateRaw ?? new Uint8Array(), RawSequence);
    // RFC 5280 §4.1: TBSCertificate = [0] version?, serialNumber, signature, issuer, validity, subject, …
    const offset = new Uint8Array(tbs[0] ?? new ArrayBuffer(0))[0] === 0xa0 ? 1 : 0;
    const issuer = tbs[offset + 2];
    const subject = tbs[offset + 4];
    if (issuer === undefined || subject === undefined) throw new Error("TBSCertificate is too short");
    return { ok: true, value: { certificate, issuer: new Uint8Array(issuer), subject: new Uint8Array(subject) } };
  } catch {
    return reject("CERT_MALFORMED", "certificate DER does not parse as an X.509 Certificate (RFC 5280 §4.1)");
  }
}

/**
 * The decoded certificate with its issuer and subject as the exact bytes signed (not re-encoded: a re-encoded
 * Name can differ, e.g. for a UniversalString outside the BMP). Null when the DER is not a Certificate.
 */
export function certificateParts(leafDer: Uint8Array): { certificate: Certificate; issuer: Uint8Array; subject: Uint8Array } | null {
  const decoded = decode(leafDer);
  return decoded.ok ? decoded.value : null;
}

function identityOf(leafDer: Uint8Array, options: ParseIdentityOptions): IdentityResult {
  const decoded = decode(leafDer);
  if (!decoded.ok) return decoded;
  const { certificate, issuer } = decoded.value;
  const subject = readName(decoded.value.subject);

  // OFB certificate standard 2.1: the software statement id is UID; a missing UID is an error (OIDF suite, likewise).
  const uid = singleValue(subject, OID.uid, "UID");
  if (!uid.ok) return uid;
  if (uid.value === null || uid.value.trim() === "") {
    return reject("IDENTITY_SOFTWARE_STATEMENT_MISSING", "subject has no UID (0.9.2342.19200300.100.1.1)");
  }
  const org = organisation(subject, options);
  if (!org.ok) return org;

  const names = subjectAltNames(certificate);
  if (!names.ok) return names;
  const otherNames = readIcpBrasilOtherNames(names.value);

  // The OFB subject carries the CNPJ in serialNumber (2.5.4.5); ICP-Brasil legal-entity certificates carry it in
  // otherName 2.16.76.1.3.3 (Resolução CG ICP-Brasil 128/2017, DOC-ICP-04).
  const serial = singleValue(subject, OID.serialNumber, "serialNumber");
  if (!serial.ok) return serial;
  const cnpj = serial.value ?? otherNames?.cnpj ?? null;
  const status = cnpj === null ? null : cnpjStatus(cnpj);
  if (cnpj !== null && status !== "verified") {
    const source = serial.value === null ? "otherName 2.16.76.1.3.3" : "serialNumber (2.5.4.5)";
    if (status === "malformed") return reject("IDENTITY_CNPJ_INVALID", `${source} ${quote(cnpj)} is not a CNPJ (8 to 14 characters of 0-9 and A-Z)`);
    if ((options.cnpj ?? "flag") === "refuse") return reject("IDENTITY_CNPJ_INVALID", `${source} ${quote(cnpj)} fails the CNPJ check digits (policy.cnpj refuse)`);
  }

  const tbs = certificate.tbsCertificate;
  const identity: ParticipantIdentity = {
    ...org.value,
    softwareStatementId: uid.value,
    cnpj,
    cnpjVerified: status === "verified",
    commonName: attributeValues(subject, OID.commonName)[0] ?? null,
    dnsNames: Object.freeze(names.value.flatMap((name) => (name.dNSName === undefined ? [] : [name.dNSName]))),
    uris: Object.freeze(
      names.value.flatMap((name) => (name.uniformResourceIdentifier === undefined ? [] : [name.uniformResourceIdentifier])),
    ),
    subjectDn: formatDn(subject, "rfc4514"),
    issuerDn: formatDn(issuer, "rfc4514"),
    serialNumber: serialHex(new Uint8Array(tbs.serialNumber)),
    notBefore: tbs.validity.notBefore.getTime(),
    notAfter: tbs.validity.notAfter.getTime(),
    otherNames,
  };
  return { ok: true, identity: Object.freeze(identity) };
}

/**
 * Derives the OFB participant identity from a client certificate's DER (OFB certificate standard 2.1), reading every
 * attribute by OID in any RDN order and any DirectoryString type. Pure: no clock, no I/O; chain and
 * validity checks belong to `pki/`.
 *
 * Rejections name the rule: `IDENTITY_SOFTWARE_STATEMENT_MISSING`, `IDENTITY_ORGANISATION_MISSING`,
 * `IDENTITY_ORGANISATION_INVALID`, `IDENTITY_OPEN_INSURANCE_NOT_ALLOWED`, `IDENTITY_CNPJ_INVALID` (a value that
 * is not shaped like a CNPJ; with `cnpj: "refuse"` also one whose check digits fail), and
 * `CERT_MALFORMED` for DER that does not parse or an ambiguous identity (two different UIDs,
 * organizationIdentifiers, serialNumbers or UUID OUs). Details quote at most 100 characters of the
 * offending value, never the certificate.
 */
export function parseIdentity(leafDer: Uint8Array, options: ParseIdentityOptions): IdentityResult {
  try {
    return identityOf(leafDer, options);
  } catch (error) {
    if (error instanceof EdgeError) return reject(error.code, error.message);
    throw error;
  }
}
