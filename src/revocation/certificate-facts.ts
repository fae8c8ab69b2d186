import { AsnConvert } from "@peculiar/asn1-schema";
import { AuthorityInfoAccessSyntax, CRLDistributionPoints, id_ad_ocsp } from "@peculiar/asn1-x509";
import { DerError, TAG, children, expectTlv, isOid, readTlv } from "./der.js";
import { normalisedSerial, serialHash } from "./serial-index.js";

/** What revocation needs from a certificate: how its issuer's CRL and OCSP responder name it, and where they are. */
export interface CertificateFacts {
  /** The serial number's normalised bytes (see `normalisedSerial`) and their hash, as CRL indexes look it up. */
  readonly serial: Uint8Array;
  readonly serialHash: number;
  /** The serialNumber INTEGER's content exactly as encoded: an OCSP CertID repeats it (RFC 6960 §4.1.1). */
  readonly serialContent: Uint8Array;
  /** http(s) URLs of its CRL distribution points, in the certificate's order. */
  readonly crlUrls: readonly string[];
  /** http URLs of its OCSP responders (Authority Information Access, id-ad-ocsp), in the certificate's order. */
  readonly ocspUrls: readonly string[];
}

const CRL_DISTRIBUTION_POINTS = Uint8Array.of(0x55, 0x1d, 0x1f); // 2.5.29.31
const AUTHORITY_INFO_ACCESS = Uint8Array.of(0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01); // 1.3.6.1.5.5.7.1.1
/** Distribution points (or responders) taken from one certificate: ICP-Brasil ACs name two or three. */
const MAX_URLS = 8;

/**
 * Reads the serial number, CRL distribution points (RFC 5280 §4.2.1.13) and OCSP responders (§4.2.2.1) of a
 * certificate's DER, walking to them without decoding the rest. Points with a `cRLIssuer` (indirect CRLs) or a
 * name relative to it, and non-HTTP URIs (LDAP), are left out: the CRL is fetched over HTTP from its issuing AC
 * (RFC 5280 §4.2.1.13). Responders are kept only with plain-HTTP URLs (RFC 6960 Appendix A.1; every ICP-Brasil
 * responder is one), trust coming from the response's signature.
 */
export function certificateFacts(der: Uint8Array): CertificateFacts {
  const cert = expectTlv(der, 0, der.length, TAG.sequence, "Certificate");
  const tbs = expectTlv(der, cert.content, cert.end, TAG.sequence, "tbsCertificate");
  let field = readTlv(der, tbs.content, tbs.end);
  if (field.tag === 0xa0) field = readTlv(der, field.end, tbs.end);
  if (field.tag !== TAG.integer) throw new DerError("serialNumber: not an INTEGER");
  const { start, end } = normalisedSerial(der, field.content, field.end);
  const serial = der.slice(start, end);
  const facts = { serial, serialHash: serialHash(serial), serialContent: der.slice(field.content, field.end) };
  let extensions = null;
  for (const f of children(der, tbs)) if (f.tag === 0xa3) extensions = f;
  let crlUrls: readonly string[] = [];
  let ocspUrls: readonly string[] = [];
  if (!extensions) return { ...facts, crlUrls, ocspUrls };
  for (const ext of children(der, expectTlv(der, extensions.content, extensions.end, TAG.sequence, "extensions"))) {
    const oid = expectTlv(der, ext.content, ext.end, TAG.oid, "extnID");
    const isCrlDp = isOid(der, oid, CRL_DISTRIBUTION_POINTS);
    if (!isCrlDp && !isOid(der, oid, AUTHORITY_INFO_ACCESS)) continue;
    let value = readTlv(der, oid.end, ext.end);
    if (value.tag === TAG.boolean) value = readTlv(der, value.end, ext.end);
    const extnValue = der.subarray(value.content, value.end);
    if (isCrlDp) crlUrls = distributionPointUrls(extnValue);
    else ocspUrls = responderUrls(extnValue);
  }
  return { ...facts, crlUrls, ocspUrls };
}

function distributionPointUrls(extnValue: Uint8Array): string[] {
  const urls: string[] = [];
  for (const point of AsnConvert.parse(extnValue, CRLDistributionPoints)) {
    if (point.cRLIssuer) continue;
    for (const name of point.distributionPoint?.fullName ?? []) {
      const uri = name.uniformResourceIdentifier;
      if (uri && /^https?:\/\//i.test(uri) && URL.canParse(uri) && !urls.includes(uri)) urls.push(uri);
    }
  }
  return urls.slice(0, MAX_URLS);
}

/** An AIA that cannot be read names no responder: OCSP is optional, and the CRL still decides. */
function responderUrls(extnValue: Uint8Array): string[] {
  let syntax: AuthorityInfoAccessSyntax;
  try {
    syntax = AsnConvert.parse(extnValue, AuthorityInfoAccessSyntax);
  } catch {
    return [];
  }
  const urls: string[] = [];
  for (const access of syntax) {
    const uri = access.accessMethod === id_ad_ocsp ? access.accessLocation.uniformResourceIdentifier : undefined;
    if (uri && /^http:\/\//i.test(uri) && URL.canParse(uri) && !urls.includes(uri)) urls.push(uri);
  }
  return urls.slice(0, MAX_URLS);
}
