import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import type { webcrypto } from "node:crypto";
import {
  addDays,
  authorityKeyIdentifier,
  signCertificate,
  subjectKeyIdentifier,
  type SubjectInput,
  type TestCa,
} from "./certificate.js";
import { generateKeyPair, importKeyPair, type HashName, type KeySpec } from "./keys.js";

/** Options of {@link createTestCa}. Every field but `subject` has a default. */
export interface CreateTestCaOptions {
  readonly subject: SubjectInput;
  /** The issuing CA; absent for a self-signed root. */
  readonly issuer?: TestCa;
  /** Key to generate (default RSA 2048); ignored when `keys` is given. */
  readonly key?: KeySpec;
  readonly keys?: webcrypto.CryptoKeyPair;
  /** Hash of the signature over this certificate (default SHA-256). */
  readonly signatureHash?: HashName;
  /** Reference time for the default validity (default: the current time). */
  readonly now?: Date;
  /** Default `now − 1 day`. Encoded to whole seconds. */
  readonly notBefore?: Date;
  /** Default `now + 10 years`. Encoded to whole seconds. */
  readonly notAfter?: Date;
  readonly serialNumber?: string;
  /** Default `{ ca: true }` (no path length). `ca: false` mints the "CA bit violation" issuer. Always critical. */
  readonly basicConstraints?: { readonly ca: boolean; readonly pathLength?: number };
  /**
   * EKU on the CA certificate; default none, which imposes no restriction on the path (as OpenSSL applies a CA's
   * EKU).
   */
  readonly extendedKeyUsage?: readonly string[];
  /** Where this CA will publish its CRL; written into the certificates it issues. Default `null`. */
  readonly crlUrl?: string | null;
}

/**
 * Creates a CA certificate: a self-signed root when `issuer` is absent, otherwise an AC signed by
 * `issuer`. Extensions follow the ICP-Brasil ACs: basicConstraints and keyUsage
 * (keyCertSign, cRLSign) critical, SKI, and for an AC also AKI and the issuer's CRL distribution point.
 *
 * @example
 * const root = await createTestCa({ subject: [{ "2.5.4.3": ["Test Root"] }], crlUrl: "http://127.0.0.1:8480/crl/root.crl" });
 * const ac = await createTestCa({ subject: [{ "2.5.4.3": ["Test AC"] }], issuer: root, basicConstraints: { ca: true, pathLength: 0 } });
 */
export async function createTestCa(options: CreateTestCaOptions): Promise<TestCa> {
  const now = options.now ?? new Date();
  const keys = options.keys ?? (await generateKeyPair(options.key));
  const issuer = options.issuer ?? "self";
  const constraints = options.basicConstraints ?? { ca: true };
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(constraints.ca, constraints.pathLength, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    await subjectKeyIdentifier(keys),
  ];
  if (issuer !== "self") {
    extensions.push(await authorityKeyIdentifier(issuer, keys));
    if (issuer.crlUrl !== null) {
      extensions.push(new x509.CRLDistributionPointsExtension([issuer.crlUrl]));
    }
  }
  if (options.extendedKeyUsage !== undefined) {
    extensions.push(new x509.ExtendedKeyUsageExtension([...options.extendedKeyUsage]));
  }
  const issued = await signCertificate({
    subject: options.subject,
    issuer,
    keys,
    signatureHash: options.signatureHash ?? "SHA-256",
    notBefore: options.notBefore ?? addDays(now, -1),
    notAfter: options.notAfter ?? addDays(now, 3652),
    serialNumber: options.serialNumber,
    extensions,
  });
  return { ...issued, crlUrl: options.crlUrl ?? null };
}

/**
 * A {@link TestCa} from a certificate PEM and its PKCS#8 key PEM (see `loadTestCa` to read the files
 * named by a manifest).
 */
export async function testCaFromPem(certPem: string, keyPem: string, crlUrl: string | null = null): Promise<TestCa> {
  const cert = new x509.X509Certificate(certPem);
  const keys = await importKeyPair(cert, keyPem);
  return {
    cert,
    keys,
    pem: x509.PemConverter.encode(cert.rawData, "CERTIFICATE"),
    keyPem,
    der: new Uint8Array(cert.rawData),
    crlUrl,
  };
}
