import { webcrypto } from "node:crypto";
import { AsnConvert } from "@peculiar/asn1-schema";
import {
  AttributeTypeAndValue,
  AttributeValue,
  GeneralName,
  Name,
  OtherName,
  RelativeDistinguishedName,
  SubjectAlternativeName,
} from "@peculiar/asn1-x509";
import * as x509 from "@peculiar/x509";

/** The DirectoryString (and IA5String) choices of `AttributeValue` in @peculiar/asn1-x509. */
export type StringType = "utf8String" | "printableString" | "teletexString" | "bmpString" | "universalString" | "ia5String";

/** One attribute: OID, text and string type (UTF8String unless stated). */
export type Attribute = readonly [oid: string, value: string, type?: StringType];

/** An RDN: one attribute, or an array of attributes for a multi-valued RDN. */
export type Rdn = Attribute | readonly Attribute[];

export const OID = {
  CN: "2.5.4.3",
  C: "2.5.4.6",
  L: "2.5.4.7",
  ST: "2.5.4.8",
  O: "2.5.4.10",
  OU: "2.5.4.11",
  serialNumber: "2.5.4.5",
  businessCategory: "2.5.4.15",
  organizationIdentifier: "2.5.4.97",
  jurisdictionC: "1.3.6.1.4.1.311.60.2.1.3",
  UID: "0.9.2342.19200300.100.1.1",
  STREET: "2.5.4.9",
  DC: "0.9.2342.19200300.100.1.25",
} as const;

function isMultiValued(rdn: Rdn): rdn is readonly Attribute[] {
  return Array.isArray(rdn[0]);
}

/** Builds a Name with exact control over RDN order (DER order, least specific first) and string tags. */
export function nameDer(rdns: readonly Rdn[]): Uint8Array {
  const name = new Name(
    rdns.map((rdn) => {
      const attributes = isMultiValued(rdn) ? rdn : [rdn as Attribute];
      return new RelativeDistinguishedName(
        attributes.map(
          ([type, value, stringType = "utf8String"]) =>
            new AttributeTypeAndValue({ type, value: new AttributeValue({ [stringType]: value }) }),
        ),
      );
    }),
  );
  return new Uint8Array(AsnConvert.serialize(name));
}

/** One DER element with a short-form length (the tests never need more than 127 content bytes). */
export function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const content = Uint8Array.from(parts.flatMap((part) => [...part]));
  if (content.length > 127) throw new Error("short-form lengths only");
  return Uint8Array.of(tag, content.length, ...content);
}

/** DER of one string element, e.g. `stringDer(0x04, "11222333000181")` for an OCTET STRING. */
export function stringDer(tag: number, text: string): ArrayBuffer {
  return tlv(tag, new TextEncoder().encode(text)).buffer as ArrayBuffer;
}

/** Bytes from hex, for values whose exact encoding is the point of the test. */
export function hex(text: string): Uint8Array {
  return Uint8Array.from(text.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));
}

// X.690 §8.19: the first two arcs share one subidentifier; each is base-128 with continuation bits.
function oidDer(oid: string): Uint8Array {
  const [first = 0, second = 0, ...rest] = oid.split(".").map(Number);
  const octets = [40 * first + second, ...rest].flatMap((arc) => {
    const groups = [arc & 0x7f];
    for (let value = arc >>> 7; value > 0; value >>>= 7) groups.unshift((value & 0x7f) | 0x80);
    return groups;
  });
  return tlv(0x06, Uint8Array.from(octets));
}

/** A Name written byte by byte: each RDN is a list of `[oid, value DER]`, so any value encoding is possible. */
export function rawNameDer(rdns: readonly (readonly (readonly [string, Uint8Array])[])[]): Uint8Array {
  return tlv(0x30, ...rdns.map((rdn) => tlv(0x31, ...rdn.map(([oid, value]) => tlv(0x30, oidDer(oid), value)))));
}

/** An otherName GeneralName whose `[0] EXPLICIT` content is `valueDer`. */
export function otherName(typeId: string, valueDer: ArrayBuffer): GeneralName {
  return new GeneralName({ otherName: new OtherName({ typeId, value: valueDer }) });
}

/** A P-256 key pair: the key type is irrelevant to identity parsing, and P-256 is fast. */
export function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
}

/** A subjectAltName extension (2.5.29.17) holding `names`. */
export function sanExtension(names: readonly GeneralName[]): x509.Extension {
  return new x509.Extension("2.5.29.17", false, AsnConvert.serialize(new SubjectAlternativeName([...names])));
}

export interface LeafParams {
  readonly subject: Uint8Array;
  readonly issuer?: Uint8Array;
  readonly subjectAltNames?: readonly GeneralName[];
  /** Extensions added after the subjectAltName built from `subjectAltNames`. */
  readonly extensions?: readonly x509.Extension[];
  readonly serialNumber?: string;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
}

/** Issues a certificate for `params.subject` signed by `keys`; returns its DER. */
export async function issueLeaf(keys: webcrypto.CryptoKeyPair, params: LeafParams): Promise<Uint8Array> {
  const extensions = [...(params.subjectAltNames ? [sanExtension(params.subjectAltNames)] : []), ...(params.extensions ?? [])];
  const certificate = await x509.X509CertificateGenerator.create(
    {
      subject: new x509.Name(params.subject),
      issuer: new x509.Name(params.issuer ?? nameDer([[OID.C, "BR", "printableString"], [OID.CN, "Test Issuing CA"]])),
      publicKey: keys.publicKey,
      signingKey: keys.privateKey,
      serialNumber: params.serialNumber ?? "01",
      notBefore: params.notBefore ?? new Date("2024-01-01T00:00:00Z"),
      notAfter: params.notAfter ?? new Date("2025-01-01T00:00:00Z"),
      signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
      extensions,
    },
    webcrypto,
  );
  return new Uint8Array(certificate.rawData);
}
