import { createHash } from "node:crypto";
import { id_pkix_ocsp_nonce, CertID, OCSPRequest, Request, TBSRequest } from "@peculiar/asn1-ocsp";
import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import { AlgorithmIdentifier, Extension } from "@peculiar/asn1-x509";
import type { CertInfo } from "../pki/certificate.js";
import type { CertificateFacts } from "./certificate-facts.js";
import { TAG, expectTlv, readTlv } from "./der.js";

/** id-sha1: the CertID hash of the RFC 5019 lightweight profile (§2.1.1), which every responder answers. */
export const SHA1 = "1.3.14.3.2.26";

/** RFC 6960 §4.1.1 CertID: what a request asks about and what the matching SingleResponse must repeat. */
export interface OcspCertId {
  /** SHA-1 of the DER of the issuer name in the certificate asked about. */
  readonly issuerNameHash: Uint8Array;
  /** SHA-1 of the issuer's subjectPublicKey BIT STRING value. */
  readonly issuerKeyHash: Uint8Array;
  /** The certificate's serialNumber INTEGER content, as encoded in it. */
  readonly serialNumber: Uint8Array;
}

/** The CertID of `cert`, issued by the AC whose key hash is `issuerKeyHash` (see {@link keyHash}). */
export function ocspCertId(cert: CertInfo, facts: CertificateFacts, issuerKeyHash: Uint8Array): OcspCertId {
  return { issuerNameHash: sha1(cert.issuerDer), issuerKeyHash, serialNumber: facts.serialContent };
}

/**
 * RFC 6960 §4.1.1 (issuerKeyHash) and §4.2.1 (ResponderID byKey): the SHA-1 of a certificate's subjectPublicKey
 * BIT STRING value, excluding the tag, length and number of unused bits.
 */
export function keyHash(certDer: Uint8Array): Uint8Array {
  const cert = expectTlv(certDer, 0, certDer.length, TAG.sequence, "Certificate");
  const tbs = expectTlv(certDer, cert.content, cert.end, TAG.sequence, "tbsCertificate");
  let field = readTlv(certDer, tbs.content, tbs.end);
  if (field.tag === 0xa0) field = readTlv(certDer, field.end, tbs.end);
  // serialNumber, signature, issuer, validity, subject, then subjectPublicKeyInfo.
  for (let i = 0; i < 5; i++) field = readTlv(certDer, field.end, tbs.end);
  const spki = field;
  if (spki.tag !== TAG.sequence) throw new Error("subjectPublicKeyInfo: not a SEQUENCE");
  const algorithm = expectTlv(certDer, spki.content, spki.end, TAG.sequence, "subjectPublicKeyInfo.algorithm");
  const bits = expectTlv(certDer, algorithm.end, spki.end, TAG.bitString, "subjectPublicKey");
  return sha1(certDer.subarray(bits.content + 1, bits.end));
}

/** The DER of the nonce extension's extnValue (RFC 8954 §2.1: an OCTET STRING of 1 to 32 octets). */
export function nonceValue(nonce: Uint8Array): Uint8Array {
  return new Uint8Array(AsnConvert.serialize(new OctetString(nonce)));
}

/**
 * An unsigned OCSPRequest (RFC 6960 §4.1.1) for one certificate, as the RFC 5019 profile sends it: one Request,
 * no requestorName, and a nonce extension only when `nonce` is given (RFC 6960 §4.4.1).
 */
export function ocspRequestDer(id: OcspCertId, nonce: Uint8Array | null): Uint8Array {
  const reqCert = new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: SHA1, parameters: null }),
    issuerNameHash: new OctetString(id.issuerNameHash),
    issuerKeyHash: new OctetString(id.issuerKeyHash),
    serialNumber: toArrayBuffer(id.serialNumber),
  });
  const tbsRequest = new TBSRequest({ requestList: [new Request({ reqCert })] });
  if (nonce) tbsRequest.requestExtensions = [new Extension({ extnID: id_pkix_ocsp_nonce, critical: false, extnValue: new OctetString(nonceValue(nonce)) })];
  return new Uint8Array(AsnConvert.serialize(new OCSPRequest({ tbsRequest })));
}

export function sha1(bytes: Uint8Array): Uint8Array {
  return createHash("sha1").update(bytes).digest();
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
