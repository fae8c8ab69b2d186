import { AsnConvert } from "@peculiar/asn1-schema";
import { CRLDistributionPoints } from "@peculiar/asn1-x509";
import { DerError, TAG, children, expectTlv, isOid, readTlv } from "./der.js";
import { normalisedSerial, serialHash } from "./serial-index.js";

/** What revocation needs from a certificate: how its issuer's CRL names it, and where that CRL is published. */
export interface CertificateFacts {
  /** The serial number's normalised bytes (see `normalisedSerial`) and their hash, as CRL indexes look it up. */
  readonly serial: Uint8Array;
  readonly serialHash: number;
  /** http(s) URLs of its CRL distribution points, in the certificate's order. */
  readonly crlUrls: readonly string[];
}

const CRL_DISTRIBUTION_POINTS = Uint8Array.of(0x55, 0x1d, 0x1f); // 2.5.29.31
/** Distribution points taken from one certificate: ICP-Brasil ACs name two or three. */
const MAX_URLS = 8;

/**
 * Reads the serial number and CRL distribution points (RFC 5280 §4.2.1.13) of a certificate's DER, walking to
 * them without decoding the rest. Points with a `cRLIssuer` (indirect CRLs) or a name relative to it, and
 * non-HTTP URIs (LDAP), are left out: the CRL is fetched over HTTP from its issuing AC (icp-brasil-facts §7).
 */
export function certificateFacts(der: Uint8Array): CertificateFacts {
  const cert = expectTlv(der, 0, der.length, TAG.sequence, "Certificate");
  const tbs = expectTlv(der, cert.content, cert.end, TAG.sequence, "tbsCertificate");
  let field = readTlv(der, tbs.content, tbs.end);
  if (field.tag === 0xa0) field = readTlv(der, field.end, tbs.end);
  if (field.tag !== TAG.integer) throw new DerError("serialNumber: not an INTEGER");
  const { start, end } = normalisedSerial(der, field.content, field.end);
  const serial = der.slice(start, end);
  const facts = { serial, serialHash: serialHash(serial) };
  let extensions = null;
  for (const f of children(der, tbs)) if (f.tag === 0xa3) extensions = f;
  if (!extensions) return { ...facts, crlUrls: [] };
  for (const ext of children(der, expectTlv(der, extensions.content, extensions.end, TAG.sequence, "extensions"))) {
    const oid = expectTlv(der, ext.content, ext.end, TAG.oid, "extnID");
    if (!isOid(der, oid, CRL_DISTRIBUTION_POINTS)) continue;
    let value = readTlv(der, oid.end, ext.end);
    if (value.tag === TAG.boolean) value = readTlv(der, value.end, ext.end);
    return { ...facts, crlUrls: distributionPointUrls(der.subarray(value.content, value.end)) };
  }
  return { ...facts, crlUrls: [] };
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
