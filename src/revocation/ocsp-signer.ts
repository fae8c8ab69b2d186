import { X509Certificate, type KeyObject } from "node:crypto";
import { id_kp_OCSPSigning } from "@peculiar/asn1-ocsp";
import { AsnConvert } from "@peculiar/asn1-schema";
import { AlgorithmIdentifier } from "@peculiar/asn1-x509";
import { isIssuedBy, parseCertInfo, type CertInfo } from "../pki/certificate.js";
import { certificateFacts } from "./certificate-facts.js";
import { TAG, children, expectTlv, isOid, readTlv } from "./der.js";
import { keyHash } from "./ocsp-request.js";
import { OcspError } from "./ocsp-error.js";
import { verifySignature } from "./signature.js";
import { namesMatch } from "../pki/name-match.js";

/** How the response names its signer (RFC 6960 §4.2.1 ResponderID): the DER of a Name, or a SHA-1 key hash. */
export type ResponderId = { readonly byName: Uint8Array } | { readonly byKey: Uint8Array };

/** What the response must be verified with, and what is still to be checked about the signer. */
export interface OcspSigner {
  readonly key: KeyObject;
  readonly label: string;
  /**
   * A delegated responder without id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1): its own revocation status comes
   * from the AC's CRL, which must not list it (RFC 6960 §4.2.2.2.1). Null for the AC itself or a nocheck responder.
   */
  readonly unchecked: { readonly serial: Uint8Array; readonly serialHash: number; readonly label: string } | null;
}

/** The AC that issued the certificate asked about, as a response's signer is checked against it. */
export interface IssuerKey {
  readonly cert: CertInfo;
  readonly key: KeyObject;
  /** {@link keyHash} of the AC certificate. */
  readonly keyHash: Uint8Array;
}

/** Certificates of a response looked at for the signer: a responder sends its own, sometimes with its chain. */
const MAX_CERTS = 4;
const NOCHECK = Uint8Array.of(0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x05); // 1.3.6.1.5.5.7.48.1.5

/**
 * RFC 6960 §4.2.2.2: the response is signed by the AC that issued the certificate, or by a delegated responder
 * whose certificate (included in the response, `certs`) the AC issued directly, that carries id-kp-OCSPSigning
 * and is valid at `now`. The ResponderID says which; a certificate it names is checked, never trusted for being
 * there. Throws {@link OcspError} naming the rule that failed.
 */
export async function responseSigner(responderId: ResponderId, certs: readonly Uint8Array[], issuer: IssuerKey, now: number): Promise<OcspSigner> {
  if (names(responderId, issuer.cert.subjectDer, issuer.keyHash)) return { key: issuer.key, label: issuer.cert.label, unchecked: null };
  const der = certs.slice(0, MAX_CERTS).find((c) => names(responderId, subjectOf(c), keyHash(c)));
  if (!der) throw new OcspError(`the responderID names neither '${issuer.cert.label}' nor a certificate included in the response`);
  let responder: CertInfo;
  try {
    responder = parseCertInfo(der);
  } catch (err) {
    throw new OcspError(`the responder certificate is malformed (${(err as Error).message.slice(0, 100)})`, { cause: err });
  }
  const name = `the responder certificate '${responder.label}'`;
  if (!isIssuedBy(responder, issuer.cert)) throw new OcspError(`${name} is not issued by '${issuer.cert.label}' (RFC 6960 §4.2.2.2)`);
  if (!responder.extendedKeyUsage?.includes(id_kp_OCSPSigning)) throw new OcspError(`${name} lacks the id-kp-OCSPSigning extended key usage (RFC 6960 §4.2.2.2)`);
  if (now < responder.notBefore.getTime() || now > responder.notAfter.getTime()) {
    throw new OcspError(`${name} is not valid at ${new Date(now).toISOString()} (${responder.notBefore.toISOString()} to ${responder.notAfter.toISOString()})`);
  }
  if (!(await signedBy(der, issuer.key))) throw new OcspError(`${name}: its signature does not verify with the key of '${issuer.cert.label}' (RFC 6960 §4.2.2.2)`);
  const key = new X509Certificate(der).publicKey;
  if (hasNocheck(der)) return { key, label: responder.label, unchecked: null };
  const facts = certificateFacts(der);
  return { key, label: responder.label, unchecked: { serial: facts.serial, serialHash: facts.serialHash, label: responder.label } };
}

function names(id: ResponderId, subjectDer: Uint8Array, hash: Uint8Array): boolean {
  return "byKey" in id ? equal(id.byKey, hash) : namesMatch(id.byName, subjectDer);
}

/** The subject Name's DER, read where it lies (a re-encoding could differ from the bytes the CA signed). */
function subjectOf(der: Uint8Array): Uint8Array {
  const { tbs } = certificateParts(der);
  let field = readTlv(der, tbs.content, tbs.end);
  if (field.tag === 0xa0) field = readTlv(der, field.end, tbs.end);
  // serialNumber, signature, issuer, validity, then subject.
  for (let i = 0; i < 4; i++) field = readTlv(der, field.end, tbs.end);
  return der.subarray(field.start, field.end);
}

/** The certificate's signature, by the AC's key, under an accepted algorithm (signature.ts). */
function signedBy(der: Uint8Array, key: KeyObject): Promise<boolean> {
  const { tbs, algorithm, signature } = certificateParts(der);
  if (der[signature.content] !== 0) throw new OcspError("the responder certificate's signature has unused bits");
  return verifySignature(
    { algorithm: AsnConvert.parse(der.subarray(algorithm.start, algorithm.end), AlgorithmIdentifier), signed: der.subarray(tbs.start, tbs.end), signature: der.subarray(signature.content + 1, signature.end) },
    key,
    "responder certificate",
    (m) => new OcspError(m),
  );
}

function certificateParts(der: Uint8Array) {
  const cert = expectTlv(der, 0, der.length, TAG.sequence, "Certificate");
  const tbs = expectTlv(der, cert.content, cert.end, TAG.sequence, "tbsCertificate");
  const algorithm = expectTlv(der, tbs.end, cert.end, TAG.sequence, "signatureAlgorithm");
  const signature = expectTlv(der, algorithm.end, cert.end, TAG.bitString, "signatureValue");
  return { tbs, algorithm, signature };
}

/** RFC 6960 §4.2.2.2.1: id-pkix-ocsp-nocheck among the responder certificate's extensions. */
function hasNocheck(der: Uint8Array): boolean {
  const { tbs } = certificateParts(der);
  for (const field of children(der, tbs)) {
    if (field.tag !== 0xa3) continue;
    for (const ext of children(der, expectTlv(der, field.content, field.end, TAG.sequence, "extensions"))) {
      if (isOid(der, expectTlv(der, ext.content, ext.end, TAG.oid, "extnID"), NOCHECK)) return true;
    }
  }
  return false;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}
