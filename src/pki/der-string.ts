/**
 * Text out of DER string values, decoded from the exact bytes rather than from a library's
 * re-encoding. asn1js (under @peculiar/asn1-schema) reads a UniversalString as UCS-2 and replaces
 * invalid UTF-8, so a value decoded by it and encoded again is not always the value in the certificate.
 */

/** Universal tags of the string types in a DirectoryString (RFC 5280 §4.1.2.4) or an ICP-Brasil otherName. */
export const DER_TAG = {
  octetString: 0x04,
  utf8String: 0x0c,
  printableString: 0x13,
  teletexString: 0x14,
  ia5String: 0x16,
  universalString: 0x1c,
  bmpString: 0x1e,
} as const;

/** One DER element: its single-byte tag, its content and its total encoded length. */
export interface DerElement {
  readonly tag: number;
  readonly content: Uint8Array;
  readonly encodedLength: number;
}

/**
 * Reads the first element of `bytes` (X.690 §8.1): a single-byte tag and a definite length of at most
 * four length octets. Returns `null` for anything else (high tag numbers, the BER indefinite form,
 * a length running past the end).
 */
export function readDerElement(bytes: Uint8Array): DerElement | null {
  const tag = bytes[0];
  const first = bytes[1];
  if (tag === undefined || first === undefined || (tag & 0x1f) === 0x1f) return null;
  let length = first;
  let offset = 2;
  if (first & 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 4 || bytes.length < 2 + count) return null;
    length = 0;
    for (const octet of bytes.subarray(2, 2 + count)) length = length * 256 + octet;
    offset += count;
  }
  if (offset + length > bytes.length) return null;
  return { tag, content: bytes.subarray(offset, offset + length), encodedLength: offset + length };
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function decodeUtf8(content: Uint8Array): string | null {
  try {
    return utf8.decode(content);
  } catch {
    return null;
  }
}

function decodeAscii(content: Uint8Array): string | null {
  return content.every((octet) => octet < 0x80) ? decodeLatin1(content) : null;
}

// ITU-T T.61 is not Latin-1, but OpenSSL and every TLS stack print TeletexString bytes as Latin-1.
function decodeLatin1(content: Uint8Array): string {
  let text = "";
  for (const octet of content) text += String.fromCharCode(octet);
  return text;
}

// X.680 §41: BMPString is UCS-2 big-endian; surrogate pairs are tolerated, lone surrogates are not text.
function decodeBmp(content: Uint8Array): string | null {
  if (content.length % 2 !== 0) return null;
  const view = new DataView(content.buffer, content.byteOffset, content.byteLength);
  let text = "";
  for (let i = 0; i < content.length; i += 2) text += String.fromCharCode(view.getUint16(i));
  return LONE_SURROGATE.test(text) ? null : text;
}

// X.680 §41: UniversalString is UCS-4 big-endian.
function decodeUniversal(content: Uint8Array): string | null {
  if (content.length % 4 !== 0) return null;
  const view = new DataView(content.buffer, content.byteOffset, content.byteLength);
  let text = "";
  for (let i = 0; i < content.length; i += 4) {
    const point = view.getUint32(i);
    if (point > 0x10ffff || (point >= 0xd800 && point <= 0xdfff)) return null;
    text += String.fromCodePoint(point);
  }
  return text;
}

const DECODERS: ReadonlyMap<number, (content: Uint8Array) => string | null> = new Map([
  [DER_TAG.octetString, decodeLatin1],
  [DER_TAG.utf8String, decodeUtf8],
  [DER_TAG.printableString, decodeAscii],
  [DER_TAG.teletexString, decodeLatin1],
  [DER_TAG.ia5String, decodeAscii],
  [DER_TAG.universalString, decodeUniversal],
  [DER_TAG.bmpString, decodeBmp],
]);

/** The DirectoryString choices (RFC 5280 §4.1.2.4) plus IA5String, which `DC` and `emailAddress` use. */
export const DIRECTORY_STRING_TAGS: ReadonlySet<number> = new Set([
  DER_TAG.utf8String,
  DER_TAG.printableString,
  DER_TAG.teletexString,
  DER_TAG.ia5String,
  DER_TAG.universalString,
  DER_TAG.bmpString,
]);

/**
 * Decodes one complete DER string element whose tag is in `allowed`. Returns `null` when the bytes are
 * not exactly one element, the tag is not allowed, or the content is not valid text for its type
 * (invalid UTF-8, a non-ASCII PrintableString or IA5String, a lone surrogate).
 */
export function decodeDerString(der: Uint8Array, allowed: ReadonlySet<number>): string | null {
  const element = readDerElement(der);
  if (element === null || element.encodedLength !== der.length || !allowed.has(element.tag)) return null;
  return DECODERS.get(element.tag)?.(element.content) ?? null;
}

/** Uppercase hex of `bytes`, as OpenSSL prints `#` values and `\XX` escapes. */
export function toUpperHex(bytes: Uint8Array): string {
  let hex = "";
  for (const octet of bytes) hex += octet.toString(16).padStart(2, "0");
  return hex.toUpperCase();
}
