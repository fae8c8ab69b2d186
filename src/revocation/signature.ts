import { X509Certificate, constants, verify, type KeyObject, type VerifyKeyObjectInput } from "node:crypto";
import { AsnConvert } from "@peculiar/asn1-schema";
import { RsaSaPssParams } from "@peculiar/asn1-rsa";
import { AlgorithmIdentifier } from "@peculiar/asn1-x509";
import type { CertInfo } from "../pki/certificate.js";
import { CrlError, type ParsedCrl } from "./crl.js";
import { namesMatch } from "../pki/name-match.js";

/**
 * Signature algorithms accepted on CRLs, OCSP responses and delegated OCSP responder certificates (named here,
 * not the library's default set). SHA-1 and older are refused, as they are for certificates
 * (pki/certificate.ts WEAK_SIGNATURE_ALGORITHMS); ICP-Brasil v5 and later ACs sign with SHA-256 or SHA-512.
 */
const PKCS1_AND_ECDSA: ReadonlyMap<string, string> = new Map([
  ["1.2.840.113549.1.1.11", "sha256"], // sha256WithRSAEncryption
  ["1.2.840.113549.1.1.12", "sha384"],
  ["1.2.840.113549.1.1.13", "sha512"],
  ["1.2.840.10045.4.3.2", "sha256"], // ecdsa-with-SHA256 (DER signature, as node:crypto expects by default)
  ["1.2.840.10045.4.3.3", "sha384"],
  ["1.2.840.10045.4.3.4", "sha512"],
]);
const RSASSA_PSS = "1.2.840.113549.1.1.10";
const MGF1 = "1.2.840.113549.1.1.8";
const PSS_HASHES: ReadonlyMap<string, string> = new Map([
  ["2.16.840.1.101.3.4.2.1", "sha256"],
  ["2.16.840.1.101.3.4.2.2", "sha384"],
  ["2.16.840.1.101.3.4.2.3", "sha512"],
]);

/** The AC's public key, imported once per AC. */
export function publicKeyOf(issuer: CertInfo): KeyObject {
  return new X509Certificate(issuer.der).publicKey;
}

/**
 * RFC 5280 §6.3.3 (f), (b)(1): the CRL must name the AC as its issuer (names compared per RFC 5280 §7.1, as
 * chain building compares them: ACs sign CRLs whose issuer field uses other string types) and carry a valid signature by the AC's key. Rejects with {@link CrlError} saying which
 * failed. The digest of a CRL of tens of MB is computed off the event loop (node:crypto's callback form).
 */
export async function verifyCrl(crl: ParsedCrl, issuer: CertInfo, key: KeyObject): Promise<void> {
  if (!namesMatch(crl.issuerDer, issuer.subjectDer)) throw new CrlError(`the CRL's issuer is not '${issuer.label}'`);
  const valid = await verifySignature({ algorithm: crl.signatureAlgorithm, signed: crl.tbs, signature: crl.signature }, key, "CRL", (m) => new CrlError(m));
  if (!valid) throw new CrlError(`the CRL's signature does not verify with the key of '${issuer.label}'`);
}

/** Signed bytes (a tbs structure's DER), the algorithm named next to them, and the signature value. */
export interface Signed {
  readonly algorithm: AlgorithmIdentifier;
  readonly signed: Uint8Array;
  readonly signature: Uint8Array;
}

/**
 * True when `s.signature` is a valid signature of `s.signed` by `key` under an accepted algorithm. An algorithm
 * that is not accepted throws `fail(message)`, the message naming `what` was signed. The digest is computed off
 * the event loop (node:crypto's callback form).
 */
export function verifySignature(s: Signed, key: KeyObject, what: string, fail: (message: string) => Error): Promise<boolean> {
  const { hash, key: input } = verifyParameters(s.algorithm, key, what, fail);
  return new Promise<boolean>((resolve, reject) => verify(hash, s.signed, input, s.signature, (err, ok) => (err ? reject(err) : resolve(ok))));
}

function verifyParameters(alg: AlgorithmIdentifier, key: KeyObject, what: string, fail: (message: string) => Error): { hash: string; key: KeyObject | VerifyKeyObjectInput } {
  const hash = PKCS1_AND_ECDSA.get(alg.algorithm);
  if (hash) return { hash, key };
  if (alg.algorithm !== RSASSA_PSS || !alg.parameters) throw fail(`${what} signature algorithm ${alg.algorithm} is not accepted`);
  // RFC 4055 §3.1: the hash and MGF1's hash are named in the parameters; both must be the same accepted hash.
  const params = AsnConvert.parse(alg.parameters, RsaSaPssParams);
  const pssHash = PSS_HASHES.get(params.hashAlgorithm.algorithm);
  const mgfHash = params.maskGenAlgorithm.parameters ? AsnConvert.parse(params.maskGenAlgorithm.parameters, AlgorithmIdentifier).algorithm : null;
  if (!pssHash || params.maskGenAlgorithm.algorithm !== MGF1 || mgfHash !== params.hashAlgorithm.algorithm) throw fail(`RSASSA-PSS ${what} signature with a hash that is not accepted`);
  return { hash: pssHash, key: { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: params.saltLength } };
}
