import { AsnConvert } from "@peculiar/asn1-schema";
import {
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  KeyUsage,
  Name,
  SubjectKeyIdentifier,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectKeyIdentifier,
} from "@peculiar/asn1-x509";
import { RSAPublicKey, RsaSaPssParams } from "@peculiar/asn1-rsa";
import { nameKey } from "./name-match.js";
import { sha256Hex } from "./thumbprint.js";

/** The facts about one certificate that chain policy needs, parsed once from its DER. */
export interface CertInfo {
  readonly der: Uint8Array;
  /** SHA-256 of the DER, lowercase hex. */
  readonly sha256: string;
  readonly subjectDer: Uint8Array;
  readonly issuerDer: Uint8Array;
  /** RFC 5280 §7.1 comparison keys of the subject and issuer names (pki/name-match.ts). */
  readonly subjectKey: string;
  readonly issuerKey: string;
  /** The CN, for operator-facing messages only (peer-controlled: never used as a key). */
  readonly label: string;
  /** The issuer's CN, for messages only, like `label`. */
  readonly issuerLabel: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly signatureAlgorithm: string;
  /** For RSASSA-PSS, the hash OID from the parameters (RFC 4055 §3.1; absent parameters mean SHA-1). */
  readonly signatureHash: string | null;
  readonly keyAlgorithm: string;
  readonly rsaBits: number | null;
  /** DER of the named-curve OID for EC keys. */
  readonly ecCurve: string | null;
  readonly extendedKeyUsage: readonly string[] | null;
  readonly keyUsage: number | null;
  readonly isCa: boolean;
  readonly pathLen: number | null;
  readonly subjectKeyId: string | null;
  readonly authorityKeyId: string | null;
}

export const OID = {
  rsaEncryption: "1.2.840.113549.1.1.1",
  rsassaPss: "1.2.840.113549.1.1.10",
  ecPublicKey: "1.2.840.10045.2.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
  sha1: "1.3.14.3.2.26",
} as const;

/** Signature algorithms whose digest is broken for certificates: SHA-1 and older (RFC 9155, CA/B BR). */
export const WEAK_SIGNATURE_ALGORITHMS: ReadonlyMap<string, string> = new Map([
  ["1.2.840.113549.1.1.5", "sha1WithRSAEncryption"],
  ["1.2.840.113549.1.1.4", "md5WithRSAEncryption"],
  ["1.2.840.113549.1.1.2", "md2WithRSAEncryption"],
  ["1.3.14.3.2.29", "sha1WithRSASignature"],
  ["1.2.840.10045.4.1", "ecdsa-with-SHA1"],
  ["1.2.840.10040.4.3", "dsa-with-sha1"],
]);

/** Parses a DER certificate; throws on malformed input (callers turn that into `CERT_MALFORMED`). */
export function parseCertInfo(der: Uint8Array): CertInfo {
  const cert = AsnConvert.parse(der, Certificate);
  const tbs = cert.tbsCertificate;
  const ext = new Map((tbs.extensions ?? []).map((e) => [e.extnID, e.extnValue.buffer] as const));
  const spki = tbs.subjectPublicKeyInfo;
  const keyAlgorithm = spki.algorithm.algorithm;

  let rsaBits: number | null = null;
  if (keyAlgorithm === OID.rsaEncryption || keyAlgorithm === OID.rsassaPss) {
    const modulus = new Uint8Array(AsnConvert.parse(spki.subjectPublicKey, RSAPublicKey).modulus);
    rsaBits = bitLength(modulus);
  }
  const params = spki.algorithm.parameters;
  const ecCurve = keyAlgorithm === OID.ecPublicKey && params ? Buffer.from(params).toString("hex") : null;

  const eku = ext.get(id_ce_extKeyUsage);
  const ku = ext.get(id_ce_keyUsage);
  const bc = ext.get(id_ce_basicConstraints);
  const basic = bc ? AsnConvert.parse(bc, BasicConstraints) : null;
  const ski = ext.get(id_ce_subjectKeyIdentifier);
  const aki = ext.get(id_ce_authorityKeyIdentifier);
  const akiKeyId = aki ? AsnConvert.parse(aki, AuthorityKeyIdentifier).keyIdentifier : undefined;

  const subjectDer = new Uint8Array(AsnConvert.serialize(tbs.subject));
  const issuerDer = new Uint8Array(AsnConvert.serialize(tbs.issuer));
  return {
    der,
    sha256: sha256Hex(der),
    subjectDer,
    issuerDer,
    subjectKey: nameKey(subjectDer),
    issuerKey: nameKey(issuerDer),
    label: commonName(tbs.subject),
    issuerLabel: commonName(tbs.issuer),
    notBefore: tbs.validity.notBefore.getTime(),
    notAfter: tbs.validity.notAfter.getTime(),
    signatureAlgorithm: cert.signatureAlgorithm.algorithm,
    signatureHash: cert.signatureAlgorithm.algorithm === OID.rsassaPss ? pssHash(cert.signatureAlgorithm.parameters) : null,
    keyAlgorithm,
    rsaBits,
    ecCurve,
    extendedKeyUsage: eku ? [...AsnConvert.parse(eku, ExtendedKeyUsage)] : null,
    keyUsage: ku ? AsnConvert.parse(ku, KeyUsage).toNumber() : null,
    isCa: basic?.cA ?? false,
    pathLen: basic?.pathLenConstraint ?? null,
    subjectKeyId: ski ? Buffer.from(AsnConvert.parse(ski, SubjectKeyIdentifier).buffer).toString("hex") : null,
    authorityKeyId: akiKeyId ? Buffer.from(akiKeyId.buffer).toString("hex") : null,
  };
}

/**
 * True when `issuer` is the certificate named as `cert`'s issuer: the names match under RFC 5280 §7.1 (not
 * byte for byte: real ACs encode their subject with other string types than their certificates' issuer
 * field), and the key identifiers, when both are present, agree (RFC 5280 §4.2.1.1) — which tells apart
 * two generations of an AC that share a name.
 */
export function isIssuedBy(cert: CertInfo, issuer: CertInfo): boolean {
  if (cert.issuerKey !== issuer.subjectKey) return false;
  return cert.authorityKeyId === null || issuer.subjectKeyId === null || cert.authorityKeyId === issuer.subjectKeyId;
}

/** RFC 5280 §3.2 / §6.1: self-issued when subject and issuer match (§7.1 comparison). */
export function isSelfIssued(cert: CertInfo): boolean {
  return cert.issuerKey === cert.subjectKey;
}

function bitLength(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  if (i === bytes.length) return 0;
  return (bytes.length - i - 1) * 8 + (32 - Math.clz32(bytes[i]!));
}

function commonName(name: Name): string {
  for (const rdn of name) {
    for (const atv of rdn) {
      if (atv.type === "2.5.4.3") return sanitizeLabel(atv.value.toString());
    }
  }
  return "(no CN)";
}

/** Peer-controlled text in messages: printable, bounded. */
export function sanitizeLabel(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?").slice(0, 100);
}

/** Hash OID of an RSASSA-PSS AlgorithmIdentifier's parameters; SHA-1 when absent (RFC 4055 §3.1 default). */
function pssHash(parameters: ArrayBuffer | null | undefined): string {
  if (!parameters || parameters.byteLength === 0) return OID.sha1;
  return AsnConvert.parse(parameters, RsaSaPssParams).hashAlgorithm.algorithm;
}
