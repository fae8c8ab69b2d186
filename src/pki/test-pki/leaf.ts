import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import type { webcrypto } from "node:crypto";
import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import { DirectoryString, GeneralName, OtherName, SubjectAlternativeName } from "@peculiar/asn1-x509";
import {
  addDays,
  authorityKeyIdentifier,
  signCertificate,
  toName,
  type IssuedCertificate,
  type SubjectInput,
  type TestCa,
} from "./certificate.js";
import { generateKeyPair, type HashName, type KeySpec } from "./keys.js";
import { OID } from "./names.js";

/** An otherName SAN entry, e.g. ICP-Brasil 2.16.76.1.3.3 (CNPJ; DOC-ICP-04, Resolução 128/2017). */
export interface OtherNameEntry {
  readonly oid: string;
  readonly value: string;
  /** ASN.1 type inside `[0] EXPLICIT`; issued ICP-Brasil certificates use all three. Default `printable`. */
  readonly encoding?: "printable" | "utf8" | "octet";
}

/** SubjectAltName content. */
export interface SubjectAltNameOptions {
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly otherNames?: readonly OtherNameEntry[];
}

/**
 * Options of {@link issueClientCertificate} and {@link issueServerCertificate}. Only `subject` is
 * required; `null` removes an extension, `undefined` keeps the default.
 */
export interface LeafOptions {
  readonly subject: SubjectInput;
  /** Key to generate (default RSA 2048); ignored when `keys` is given. */
  readonly key?: KeySpec;
  /** Reuse an existing key pair (e.g. to re-issue for the same key). */
  readonly keys?: webcrypto.CryptoKeyPair;
  /** Hash of the issuer's signature (default SHA-256). */
  readonly signatureHash?: HashName;
  /** Reference time for the default validity (default: the current time). */
  readonly now?: Date;
  /** Default `now − 1 day`. Encoded to whole seconds (UTCTime). */
  readonly notBefore?: Date;
  /** Default `notBefore + 365 days`. Encoded to whole seconds (UTCTime). */
  readonly notAfter?: Date;
  /** Hex; default random. */
  readonly serialNumber?: string;
  /** EKU OIDs (default clientAuth for clients, serverAuth for servers); `null`: no EKU extension. */
  readonly extendedKeyUsage?: readonly string[] | null;
  /**
   * Default critical digitalSignature | keyEncipherment (OFB certificate standard 2.1); `null`: no keyUsage
   * extension.
   */
  readonly keyUsage?: x509.KeyUsageFlags | null;
  /** Default CA:FALSE, not critical; `null`: no basicConstraints extension. */
  readonly basicConstraints?: { readonly ca: boolean; readonly pathLength?: number; readonly critical?: boolean } | null;
  /** Default: dNSName = every CN of the subject (clients) or `localhost` (servers); `null`: no SAN. */
  readonly subjectAltName?: SubjectAltNameOptions | null;
  /** Default the issuer's `crlUrl`; `null`: no CRL distribution points. */
  readonly crlDistributionPoints?: readonly string[] | null;
  /** Appended after the defaults, e.g. {@link testExtension} for an unknown critical extension. */
  readonly extensions?: readonly x509.Extension[];
  /**
   * The issuer field as written into the certificate; default the issuer's subject, byte for byte. Real ACs
   * issue certificates whose issuer field uses other string types than their own subject (PrintableString
   * where the AC has UTF8String): the same name under RFC 5280 §7.1, other bytes.
   */
  readonly issuerName?: x509.Name;
}

/** OFB transport certificates: keyUsage critical digitalSignature, keyEncipherment (OFB certificate standard 2.1). */
const TRANSPORT_KEY_USAGE = x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment;

/**
 * Issues a client (transport) certificate under `issuer`, or self-signed with `"self"`. Defaults are
 * those of an OFB BRCAC (OFB certificate standard 2.1): RSA 2048, SHA-256, one year from `now − 1 day`, keyUsage
 * critical digitalSignature+keyEncipherment, EKU clientAuth, CA:FALSE, SAN dNSName = CN, AKI, and the
 * issuer's CRL distribution point.
 *
 * @example
 * const sslAc = await loadTestCa(pki.ca.sslAc, `${pki.crlBaseUrl}ssl-ac.crl`);
 * const { pem, keyPem } = await issueClientCertificate(sslAc, {
 *   subject: ofbSubject({ commonName: "tpp.test", softwareStatementId: ss, organisationId: org, cnpj, organizationName: "X", locality: "Sao Paulo", state: "SP" }),
 *   notAfter: new Date("2030-01-01T00:00:00Z"),
 * });
 */
export function issueClientCertificate(issuer: TestCa | "self", options: LeafOptions): Promise<IssuedCertificate> {
  return issueLeaf(issuer, options, [x509.ExtendedKeyUsage.clientAuth], commonNames(options.subject));
}

/**
 * Issues a TLS server certificate: as {@link issueClientCertificate} but EKU serverAuth and, unless
 * given, SAN dNSName `localhost`.
 */
export function issueServerCertificate(issuer: TestCa, options: LeafOptions): Promise<IssuedCertificate> {
  return issueLeaf(issuer, options, [x509.ExtendedKeyUsage.serverAuth], ["localhost"]);
}

/**
 * An extension with an arbitrary OID and a DER NULL value: with `critical: true` it is the
 * "unrecognised critical extension" RFC 5280 §4.2 says a relying party must reject.
 */
export function testExtension(oid: string, critical = true): x509.Extension {
  return new x509.Extension(oid, critical, new Uint8Array([0x05, 0x00]));
}

async function issueLeaf(
  issuer: TestCa | "self",
  options: LeafOptions,
  defaultEku: readonly string[],
  defaultDnsNames: readonly string[],
): Promise<IssuedCertificate> {
  const now = options.now ?? new Date();
  const keys = options.keys ?? (await generateKeyPair(options.key));
  const notBefore = options.notBefore ?? addDays(now, -1);
  const notAfter = options.notAfter ?? addDays(notBefore, 365);
  const extensions: x509.Extension[] = [];

  const keyUsage = options.keyUsage === undefined ? TRANSPORT_KEY_USAGE : options.keyUsage;
  if (keyUsage !== null) {
    extensions.push(new x509.KeyUsagesExtension(keyUsage, true));
  }
  const eku = options.extendedKeyUsage === undefined ? defaultEku : options.extendedKeyUsage;
  if (eku !== null) {
    extensions.push(new x509.ExtendedKeyUsageExtension([...eku]));
  }
  const constraints = options.basicConstraints === undefined ? { ca: false } : options.basicConstraints;
  if (constraints !== null) {
    extensions.push(new x509.BasicConstraintsExtension(constraints.ca, constraints.pathLength, constraints.critical ?? false));
  }
  const san = options.subjectAltName === undefined ? { dnsNames: defaultDnsNames } : options.subjectAltName;
  if (san !== null) {
    extensions.push(subjectAltNameExtension(san));
  }
  if (issuer !== "self") {
    extensions.push(await authorityKeyIdentifier(issuer, keys));
  }
  const crlUrls = options.crlDistributionPoints === undefined ? (issuer === "self" || issuer.crlUrl === null ? null : [issuer.crlUrl]) : options.crlDistributionPoints;
  if (crlUrls !== null) {
    extensions.push(new x509.CRLDistributionPointsExtension([...crlUrls]));
  }
  extensions.push(...(options.extensions ?? []));

  return signCertificate({
    subject: options.subject,
    issuer,
    keys,
    signatureHash: options.signatureHash ?? "SHA-256",
    notBefore,
    notAfter,
    serialNumber: options.serialNumber,
    extensions,
    ...(options.issuerName ? { issuerName: options.issuerName } : {}),
  });
}

function commonNames(subject: SubjectInput): string[] {
  return toName(subject).getField(OID.commonName);
}

/** Built with @peculiar/asn1-x509 because @peculiar/x509's GeneralName cannot express an arbitrary otherName. */
function subjectAltNameExtension(options: SubjectAltNameOptions): x509.Extension {
  const names: GeneralName[] = [
    ...(options.dnsNames ?? []).map((dNSName) => new GeneralName({ dNSName })),
    ...(options.ipAddresses ?? []).map((iPAddress) => new GeneralName({ iPAddress })),
    ...(options.otherNames ?? []).map(
      (entry) => new GeneralName({ otherName: new OtherName({ typeId: entry.oid, value: otherNameValue(entry) }) }),
    ),
  ];
  return new x509.Extension("2.5.29.17", false, AsnConvert.serialize(new SubjectAlternativeName(names)));
}

function otherNameValue(entry: OtherNameEntry): ArrayBuffer {
  switch (entry.encoding ?? "printable") {
    case "octet":
      return AsnConvert.serialize(new OctetString(new TextEncoder().encode(entry.value)));
    case "utf8":
      return AsnConvert.serialize(new DirectoryString({ utf8String: entry.value }));
    case "printable":
      return AsnConvert.serialize(new DirectoryString({ printableString: entry.value }));
  }
}
