/**
 * Just enough DER (X.690) to write the certificates of the property tests byte for byte: @peculiar/x509
 * re-encodes a Name it is given (a UniversalString outside the BMP does not survive it), and the
 * properties need the exact octets of every attribute value and subjectAltName.
 */

/** X.690 §8.1.3: definite length, short form below 128, long form above. */
function lengthOctets(length: number): number[] {
  if (length < 0x80) return [length];
  const octets: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest % 256);
  return [0x80 | octets.length, ...octets];
}

/** One DER element: tag, length, the concatenated parts as content. */
export function tlv(tag: number, ...parts: readonly Uint8Array[]): Uint8Array {
  const content = Buffer.concat(parts);
  return new Uint8Array(Buffer.concat([Uint8Array.from([tag, ...lengthOctets(content.length)]), content]));
}

export const sequence = (...parts: readonly Uint8Array[]) => tlv(0x30, ...parts);

/** X.690 §8.19: the first two arcs share one subidentifier; each is base-128 with continuation bits. */
export function oid(dotted: string): Uint8Array {
  const [first = 0, second = 0, ...rest] = dotted.split(".").map(Number);
  const octets = [40 * first + second, ...rest].flatMap((arc) => {
    const groups = [arc & 0x7f];
    for (let value = arc >>> 7; value > 0; value >>>= 7) groups.unshift((value & 0x7f) | 0x80);
    return groups;
  });
  return tlv(0x06, Uint8Array.from(octets));
}

/** RFC 5280 §4.1.2.5: UTCTime for 1950–2049, GeneralizedTime otherwise, whole seconds, `Z`. */
export function time(date: Date): Uint8Array {
  const year = date.getUTCFullYear();
  const rest = [date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()]
    .map((n) => String(n).padStart(2, "0"))
    .join("");
  const utc = year >= 1950 && year < 2050;
  const text = `${utc ? String(year % 100).padStart(2, "0") : String(year).padStart(4, "0")}${rest}Z`;
  return tlv(utc ? 0x17 : 0x18, Buffer.from(text, "latin1"));
}

/** The ASN.1 string types a DirectoryString (and IA5String) attribute value may use. */
export type StringType = "utf8" | "printable" | "teletex" | "bmp" | "universal" | "ia5";

const STRING_TAGS: Readonly<Record<StringType, number>> = { utf8: 0x0c, printable: 0x13, teletex: 0x14, bmp: 0x1e, universal: 0x1c, ia5: 0x16 };

// X.680 §41.4 PrintableString alphabet.
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/** Whether `text` can be written in `type` without loss (teletex is read as Latin-1, as OpenSSL does). */
export function fitsStringType(text: string, type: StringType): boolean {
  switch (type) {
    case "utf8":
    case "universal":
      return true;
    case "printable":
      return PRINTABLE.test(text);
    case "teletex":
      return /^[\u0000-\u00ff]*$/.test(text);
    case "ia5":
      return /^[\u0000-\u007f]*$/.test(text);
    case "bmp":
      // Astral characters would need UTF-16 surrogates, which OpenSSL refuses in a BMPString.
      return !/[\u{10000}-\u{10ffff}]/u.test(text);
  }
}

/** The DER of `text` as a `type` string (the caller checked {@link fitsStringType}). */
export function stringValue(type: StringType, text: string): Uint8Array {
  let content: Buffer;
  switch (type) {
    case "utf8":
      content = Buffer.from(text, "utf8");
      break;
    case "printable":
    case "teletex":
    case "ia5":
      content = Buffer.from(text, "latin1");
      break;
    case "bmp":
      content = Buffer.from(text, "utf16le").swap16();
      break;
    case "universal": {
      const points = Array.from(text, (c) => c.codePointAt(0) ?? 0);
      content = Buffer.alloc(points.length * 4);
      points.forEach((point, i) => content.writeUInt32BE(point, i * 4));
      break;
    }
  }
  return tlv(STRING_TAGS[type], content);
}

/** One attribute of a Name: its type OID and its value's DER. */
export interface NameAttribute {
  readonly oid: string;
  readonly value: Uint8Array;
}

/** A Name from RDNs in DER order, each RDN one or more attributes (kept in the given order). */
export function name(rdns: readonly (readonly NameAttribute[])[]): Uint8Array {
  return sequence(...rdns.map((rdn) => tlv(0x31, ...rdn.map((a) => sequence(oid(a.oid), a.value)))));
}

/** An Extension (RFC 5280 §4.1): id, critical flag when set, the value's DER inside an OCTET STRING. */
export function extension(id: string, critical: boolean, value: Uint8Array): Uint8Array {
  return sequence(oid(id), ...(critical ? [Uint8Array.of(0x01, 0x01, 0xff)] : []), tlv(0x04, value));
}
