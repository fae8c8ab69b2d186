/**
 * Distinguished names read by OID, never by comparing whole DN strings (real OFB subjects differ in RDN order and
 * string types; OFB certificate standard ID2 §9 keeps the older subject forms valid) and
 * written as text for logs and headers.
 *
 * The text forms here are unambiguous and safe to log. Byte-for-byte compatibility with the DN strings
 * other proxies forward (nginx, Envoy, HAProxy, AWS) is the job of the later "header profiles" issue.
 */
import { AsnArray, AsnConvert, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes } from "@peculiar/asn1-schema";
import { Name } from "@peculiar/asn1-x509";
import { EdgeError } from "../errors.js";
import { DIRECTORY_STRING_TAGS, decodeDerString, readDerElement, toUpperHex } from "../pki/der-string.js";

/** One AttributeTypeAndValue with its value exactly as encoded. */
export interface DnAttribute {
  /** Dotted OID of the attribute type. */
  readonly type: string;
  /** DER of the AttributeValue, tag included (the bytes written after `#`). */
  readonly der: Uint8Array;
  /** The value as text, or `null` when it is not a decodable DirectoryString or IA5String. */
  readonly text: string | null;
}

/** An RDNSequence in DER order (least specific first); each RDN holds one or more attributes. */
export type DistinguishedName = readonly (readonly DnAttribute[])[];

/**
 * A name to read: its exact DER (preferred: what {@link parseIdentity} passes), a `Name` already
 * decoded by @peculiar/asn1-x509 (re-encoded first, so a UniversalString outside the BMP or invalid
 * UTF-8 does not survive), or a {@link DistinguishedName} from {@link readName}.
 */
export type NameInput = Uint8Array | Name | DistinguishedName;

/**
 * The text forms of {@link formatDn}:
 * - `rfc4514`: RFC 4514, most specific RDN first, RFC 4514 short names plus OpenSSL's `serialNumber`,
 *   `organizationIdentifier`, `jurisdictionC` and `businessCategory`; other types as `OID=#hex`.
 * - `ofb`: the `tls_client_auth_subject_dn` form of OFB DCR ID3: only `CN, L, ST, O, OU, C,
 *   STREET, DC, UID` by name; every other type as `OID=#hex` of the DER value keeping its string tag.
 * - `oneline`: OpenSSL's legacy `/C=BR/O=…/CN=…`, DER order, OpenSSL short names.
 */
export type DnFormat = "rfc4514" | "ofb" | "oneline";

class RawAttribute {
  type = "";
  value: ArrayBuffer | null = null;
}
AsnProp({ type: AsnPropTypes.ObjectIdentifier })(RawAttribute.prototype, "type");
AsnProp({ type: AsnPropTypes.Any })(RawAttribute.prototype, "value");
AsnType({ type: AsnTypeTypes.Sequence })(RawAttribute);

class RawRdn extends AsnArray<RawAttribute> {}
AsnType({ type: AsnTypeTypes.Set, itemType: RawAttribute })(RawRdn);

class RawRdnSequence extends AsnArray<RawRdn> {}
AsnType({ type: AsnTypeTypes.Sequence, itemType: RawRdn })(RawRdnSequence);

// asn1-schema hands an ANY holding NULL back as `null`; its DER is 05 00.
const NULL_DER = Uint8Array.of(0x05, 0x00);

/**
 * Reads a Name (RFC 5280 §4.1.2.4) keeping every value's exact DER.
 * @throws EdgeError `CERT_MALFORMED` when the bytes are not a Name.
 */
export function readName(input: NameInput): DistinguishedName {
  if (!(input instanceof Uint8Array) && !(input instanceof Name)) return input;
  const der = input instanceof Uint8Array ? input : new Uint8Array(AsnConvert.serialize(input));
  const malformed = (cause?: unknown) =>
    new EdgeError("CERT_MALFORMED", "identity", "Name does not parse as an RDNSequence (RFC 5280 §4.1.2.4)", { cause });
  // asn1js stops after the first element; bytes after it would otherwise be ignored silently.
  if (readDerElement(der)?.encodedLength !== der.length) throw malformed();
  let sequence: RawRdnSequence;
  try {
    sequence = AsnConvert.parse(der, RawRdnSequence);
  } catch (cause) {
    throw malformed(cause);
  }
  return Object.freeze(
    Array.from(sequence, (rdn) =>
      Object.freeze(
        Array.from(rdn, (attribute): DnAttribute => {
          const valueDer = attribute.value === null ? NULL_DER : new Uint8Array(attribute.value);
          return Object.freeze({
            type: attribute.type,
            der: valueDer,
            text: decodeDerString(valueDer, DIRECTORY_STRING_TAGS),
          });
        }),
      ),
    ),
  );
}

/**
 * The text of every value of attribute `oid`, in DER order, whatever DirectoryString type carries it
 * (UTF8String, PrintableString, TeletexString, BMPString, UniversalString) or IA5String.
 * @throws EdgeError `CERT_MALFORMED` when a value of `oid` is not decodable text: an identity
 * attribute that cannot be read fails closed rather than counting as absent.
 */
export function attributeValues(name: NameInput, oid: string): string[] {
  const values: string[] = [];
  for (const attribute of readName(name).flat()) {
    if (attribute.type !== oid) continue;
    if (attribute.text === null) {
      throw new EdgeError("CERT_MALFORMED", "identity", `attribute ${oid} is not a decodable DirectoryString`);
    }
    values.push(attribute.text);
  }
  return values;
}

const RFC4514_NAMES: ReadonlyMap<string, string> = new Map([
  ["2.5.4.3", "CN"],
  ["2.5.4.7", "L"],
  ["2.5.4.8", "ST"],
  ["2.5.4.10", "O"],
  ["2.5.4.11", "OU"],
  ["2.5.4.6", "C"],
  ["2.5.4.9", "STREET"],
  ["0.9.2342.19200300.100.1.25", "DC"],
  ["0.9.2342.19200300.100.1.1", "UID"],
]);

// OpenSSL's short names (crypto/objects/objects.txt) for the OFB subject attributes outside RFC 4514 §3.
const OPENSSL_EXTRA_NAMES: readonly (readonly [string, string])[] = [
  ["2.5.4.5", "serialNumber"],
  ["2.5.4.97", "organizationIdentifier"],
  ["1.3.6.1.4.1.311.60.2.1.3", "jurisdictionC"],
  ["2.5.4.15", "businessCategory"],
];

const NAMES_BY_FORMAT: Readonly<Record<DnFormat, ReadonlyMap<string, string>>> = {
  rfc4514: new Map([...RFC4514_NAMES, ...OPENSSL_EXTRA_NAMES]),
  ofb: RFC4514_NAMES,
  oneline: new Map([...RFC4514_NAMES, ["2.5.4.9", "street"], ...OPENSSL_EXTRA_NAMES]),
};

// C0, DEL and C1 controls: never written raw, so a DN cannot split a log line or a header.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;
const utf8Encoder = new TextEncoder();

function hexEscape(char: string, prefix: string): string {
  return Array.from(utf8Encoder.encode(char), (octet) => `${prefix}${toUpperHex(Uint8Array.of(octet))}`).join("");
}

// RFC 4514 §2.4 escapes `"+,;<>\`, a leading space or `#`, a trailing space and NUL. `=` is a
// `special` that §3 allows escaped; escaping it keeps naive `=` splitters honest.
function escapeRfc4514(text: string): string {
  const chars = Array.from(text);
  return chars
    .map((char, index) => {
      if (CONTROL.test(char)) return hexEscape(char, "\\");
      if (`"+,;<>\\=`.includes(char)) return `\\${char}`;
      if (index === 0 && (char === " " || char === "#")) return `\\${char}`;
      if (index === chars.length - 1 && char === " ") return `\\${char}`;
      return char;
    })
    .join("");
}

// `/` separates RDNs and `+` joins multi-valued ones; `\` escapes, and a leading `#` would read as hex.
// Control characters as `\xHH`, as OpenSSL's compat form writes them.
function escapeOneline(text: string): string {
  const chars = Array.from(text);
  return chars
    .map((char, index) => {
      if (CONTROL.test(char)) return hexEscape(char, "\\x");
      if ("/+=\\".includes(char)) return `\\${char}`;
      if (index === 0 && char === "#") return `\\${char}`;
      return char;
    })
    .join("");
}

function formatAttribute(attribute: DnAttribute, format: DnFormat): string {
  const name = NAMES_BY_FORMAT[format].get(attribute.type);
  // RFC 4514 §2.4: a dotted-decimal type, or a value without a string form, is written as `#` and hex.
  const hex = `#${toUpperHex(attribute.der)}`;
  if (format === "oneline") {
    const value = attribute.text === null ? hex : escapeOneline(attribute.text);
    return `${name ?? attribute.type}=${value}`;
  }
  if (name === undefined) return `${attribute.type}=${hex}`;
  return `${name}=${attribute.text === null ? hex : escapeRfc4514(attribute.text)}`;
}

/**
 * Writes a name as text in one of the {@link DnFormat}s. Multi-valued RDNs are joined with `+`: in
 * `rfc4514` and `ofb` every attribute is written last-encoded first, as OpenSSL's RFC 2253 output does
 * (so the members of a multi-valued RDN too); in `oneline`, in encoded order. Values are escaped so
 * that no value can read as structure: in `rfc4514` and `ofb`, RFC 4514 §2.4 escaping plus `=`, with
 * control characters as `\XX` UTF-8 hex; in `oneline`, `\`, `/`, `+`, `=` and a leading `#` are
 * backslash-escaped and control characters written as `\xXX`. Non-ASCII text (`São Paulo`) is kept.
 *
 * The output is for logs and for matching; byte-for-byte compatibility with the DN strings other
 * proxies forward belongs to the later "header profiles" issue.
 * @throws EdgeError `CERT_MALFORMED` when DER input is not a Name.
 */
export function formatDn(name: NameInput, format: DnFormat): string {
  const rdns = readName(name);
  const text = (rdn: readonly DnAttribute[]) => rdn.map((attribute) => formatAttribute(attribute, format)).join("+");
  if (format === "oneline") return rdns.map((rdn) => `/${text(rdn)}`).join("");
  // RFC 4514 §2.1: the RDNSequence is written starting with its last element.
  return [...rdns].reverse().map((rdn) => text([...rdn].reverse())).join(",");
}
