import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import type { webcrypto } from "node:crypto";
import { nodeCrypto, privateKeyPem, randomSerialNumber, signingKeyFor, type HashName } from "./keys.js";

/** A certificate with its key pair, in the forms tests and files need. */
export interface IssuedCertificate {
  readonly cert: x509.X509Certificate;
  readonly keys: webcrypto.CryptoKeyPair;
  /** The certificate alone, PEM. */
  readonly pem: string;
  /** The private key, PKCS#8 PEM. */
  readonly keyPem: string;
  readonly der: Uint8Array;
}

/** A certificate that can issue others. */
export interface TestCa extends IssuedCertificate {
  /** Where this CA publishes its CRL; certificates it issues carry it as their CRL distribution point. */
  readonly crlUrl: string | null;
}

/**
 * A subject in @peculiar/x509's JSON form, one object per RDN in DER order
 * (`[{ "2.5.4.6": ["BR"] }, { "2.5.4.3": [{ utf8String: "x" }] }]`), or a ready `x509.Name`
 * (e.g. from {@link ofbSubject}). Plain JSON strings in the PrintableString alphabet are encoded as
 * PrintableString; write `{ utf8String }` to force UTF8String.
 */
export type SubjectInput = x509.JsonNameParams | x509.Name;

/** Everything that goes into one signature. */
export interface SignRequest {
  readonly subject: SubjectInput;
  /** The issuing CA, or `"self"` for a self-signed certificate. */
  readonly issuer: TestCa | "self";
  readonly keys: webcrypto.CryptoKeyPair;
  readonly signatureHash: HashName;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly serialNumber: string | undefined;
  readonly extensions: readonly x509.Extension[];
  /** The issuer field as written; default the issuer's subject DER (or the subject, self-signed). */
  readonly issuerName?: x509.Name;
}

/** Normalises a {@link SubjectInput} to an `x509.Name`. */
export function toName(subject: SubjectInput): x509.Name {
  return subject instanceof x509.Name ? subject : new x509.Name(subject);
}

/** Signs a certificate and returns it with its PEM/DER forms. */
export async function signCertificate(request: SignRequest): Promise<IssuedCertificate> {
  const crypto = nodeCrypto();
  const subject = toName(request.subject);
  const issuerKey = request.issuer === "self" ? request.keys.privateKey : request.issuer.keys.privateKey;
  const signing = await signingKeyFor(issuerKey, request.signatureHash);
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: request.serialNumber ?? randomSerialNumber(),
      subject,
      // The issuer name is copied from the issuer's DER so string types match byte for byte (RFC 5280 §4.1.2.4).
      issuer: request.issuerName ?? (request.issuer === "self" ? subject : new x509.Name(request.issuer.cert.subjectName.toArrayBuffer())),
      notBefore: request.notBefore,
      notAfter: request.notAfter,
      publicKey: request.keys.publicKey,
      signingKey: signing.key,
      signingAlgorithm: signing.algorithm,
      extensions: [...request.extensions],
    },
    crypto,
  );
  const der = new Uint8Array(cert.rawData);
  return {
    cert,
    keys: request.keys,
    pem: x509.PemConverter.encode(cert.rawData, "CERTIFICATE"),
    keyPem: await privateKeyPem(request.keys.privateKey),
    der,
  };
}

/**
 * RFC 5280 §4.2.1.1: the AKI repeats the issuer's SKI when it has one; otherwise the SHA-1 key id
 * of the issuer's public key (method 1 of §4.2.1.2).
 */
export async function authorityKeyIdentifier(issuer: TestCa | "self", keys: webcrypto.CryptoKeyPair): Promise<x509.AuthorityKeyIdentifierExtension> {
  if (issuer !== "self") {
    const ski = issuer.cert.getExtension(x509.SubjectKeyIdentifierExtension);
    if (ski !== null) {
      return new x509.AuthorityKeyIdentifierExtension(ski.keyId, false);
    }
  }
  const publicKey = issuer === "self" ? keys.publicKey : issuer.keys.publicKey;
  return x509.AuthorityKeyIdentifierExtension.create(publicKey, false, nodeCrypto());
}

/** RFC 5280 §4.2.1.2 SKI (method 1) for a public key. */
export function subjectKeyIdentifier(keys: webcrypto.CryptoKeyPair): Promise<x509.SubjectKeyIdentifierExtension> {
  return x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, nodeCrypto());
}

const DAY_MS = 86_400_000;

/** `date` shifted by a number of days (negative: earlier). */
export function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * DAY_MS);
}

/** `date` shifted by a number of hours (negative: earlier). */
export function addHours(date: Date, hours: number): Date {
  return new Date(date.getTime() + hours * 3_600_000);
}
