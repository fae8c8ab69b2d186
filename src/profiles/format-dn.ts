/**
 * Distinguished names as the text other TLS terminators forward (nginx `$ssl_client_s_dn`, HAProxy `ssl_c_s_dn`,
 * Envoy XFCC `Subject`, AWS ALB `X-Amzn-Mtls-Clientcert-Subject`, …), byte for byte.
 * Attributes are read with {@link readName} (exact DER of every value); the text is produced from the
 * value's content octets the way OpenSSL does, not from a decoded string.
 */
import { EdgeError } from "../errors.js";
import { readDerElement, toUpperHex } from "../pki/der-string.js";
import { formatDn, readName, type DnAttribute } from "../identity/dn.js";
import { OPENSSL_SHORT_NAMES } from "./format-attribute-names.js";

/**
 * DN text forms:
 * - `rfc2253`: OpenSSL `X509_NAME_print_ex(…, XN_FLAG_RFC2253)`: nginx `$ssl_client_s_dn` (≥ 1.11.6),
 *   HAProxy `ssl_c_s_dn(,0,rfc2253)`, AWS ALB, Cloudflare `*_rfc2253`, Envoy `Subject` (BoringSSL with the
 *   same flags; checked against OpenSSL only).
 * - `rfc2253-utf8`: the same with `XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB`: Apache httpd ≥ 2.3.11 mod_ssl
 *   `SSL_CLIENT_S_DN` / `SSL_CLIENT_I_DN` (modules/ssl/ssl_engine_vars.c ssl_var_lookup_ssl_cert_dn_oneline).
 * - `oneline`: OpenSSL 3 `X509_NAME_oneline`: nginx `$ssl_client_s_dn_legacy`, Apache `+LegacyDNStringFormat`.
 * - `haproxy-oneline`: HAProxy `ssl_c_s_dn` / `ssl_c_i_dn` without arguments (src/ssl_utils.c, formerly
 *   src/ssl_sock.c, ssl_sock_get_dn_oneline).
 * - `ofb-rfc4514`: the OFB DCR `tls_client_auth_subject_dn` form ({@link formatDn} `"ofb"`).
 * - `der-base64`: base64 of the Name's DER (GCP `{client_cert_subject_dn}`).
 */
export type DnFormat = "rfc2253" | "rfc2253-utf8" | "oneline" | "haproxy-oneline" | "ofb-rfc4514" | "der-base64";

// Universal tags OpenSSL prints as text (crypto/asn1/a_strex.c tag2nbyte): one byte per character
// (NumericString, PrintableString, T61String, IA5String, UTCTime, GeneralizedTime, VisibleString) …
const ONE_BYTE_TAGS: ReadonlySet<number> = new Set([0x12, 0x13, 0x14, 0x16, 0x17, 0x18, 0x1a]);
const UTF8_STRING = 0x0c;
// … and the wide ones, big-endian UCS-2 and UCS-4.
const BMP_STRING = 0x1e;
const UNIVERSAL_STRING = 0x1c;
const SURROGATE = /[\uD800-\uDFFF]/;

const utf8 = new TextEncoder();

function unprintable(attribute: DnAttribute): EdgeError {
  // OpenSSL 3 cannot load a certificate whose Name holds such a value (checked with `openssl x509`), so
  // no verified certificate carries one: refuse rather than invent a spelling.
  return new EdgeError("PROFILE_VALUE_UNSAFE", "profiles", `DN attribute ${attribute.type} is not a valid string of its ASN.1 type`);
}

/**
 * The UTF-8 octets OpenSSL writes for a string value (ASN1_STRFLGS_UTF8_CONVERT), or `null` when it dumps
 * the value as `#hex` instead (a type that is not a string). A UTF8String is taken octet by octet, as
 * OpenSSL does ("avoid converting twice"); one-byte strings are read as Latin-1 and converted.
 */
function utf8Octets(attribute: DnAttribute): Uint8Array | null {
  const element = readDerElement(attribute.der);
  if (element === null) return null;
  const { tag, content } = element;
  if (tag === UTF8_STRING) {
    if (attribute.text === null) throw unprintable(attribute);
    return content;
  }
  if (ONE_BYTE_TAGS.has(tag)) return utf8.encode(Buffer.from(content).toString("latin1"));
  if (tag === BMP_STRING || tag === UNIVERSAL_STRING) {
    // der-string.ts decodes these strictly (whole code units, ≤ U+10FFFF, no lone surrogate); OpenSSL
    // also refuses a BMPString holding a surrogate pair (UTF8_putc rejects surrogate code units).
    if (attribute.text === null || (tag === BMP_STRING && SURROGATE.test(attribute.text))) throw unprintable(attribute);
    return utf8.encode(attribute.text);
  }
  return null;
}

// RFC 2253 §2.4 specials OpenSSL escapes with a backslash (crypto/asn1/charmap.pl RFC2253_ESC).
const RFC2253_SPECIALS = new Set(Array.from(',+"\\<>;', (c) => c.charCodeAt(0)));
const SPACE = 0x20;
const HASH = 0x23;

/**
 * crypto/asn1/a_strex.c do_esc_char with ASN1_STRFLGS_RFC2253: specials get a backslash; a leading
 * space or `#` and a trailing space too; controls, DEL and (with `escMsb`, ASN1_STRFLGS_ESC_MSB) every
 * octet ≥ 0x80 become `\XX`. Without ESC_MSB an octet ≥ 0x80 is written as is, one Latin-1 character per
 * octet. do_buf gives the last character only the "last" flag, so a value that is exactly `#` stays unescaped.
 */
function escapeRfc2253(octets: Uint8Array, escMsb: boolean): string {
  let text = "";
  octets.forEach((octet, index) => {
    const last = index === octets.length - 1;
    const edge = last ? octet === SPACE : index === 0 && (octet === SPACE || octet === HASH);
    if ((escMsb && octet >= 0x80) || octet < 0x20 || octet === 0x7f) text += `\\${toUpperHex(Uint8Array.of(octet))}`;
    else if (RFC2253_SPECIALS.has(octet) || edge) text += `\\${String.fromCharCode(octet)}`;
    else text += String.fromCharCode(octet);
  });
  return text;
}

function rfc2253Attribute(attribute: DnAttribute, escMsb: boolean): string {
  const name = OPENSSL_SHORT_NAMES.get(attribute.type);
  // XN_FLAG_DUMP_UNKNOWN_FIELDS: an unknown type is written as its OID with the value's DER in hex.
  const octets = name === undefined ? null : utf8Octets(attribute);
  const value = octets === null ? `#${toUpperHex(attribute.der)}` : escapeRfc2253(octets, escMsb);
  return `${name ?? attribute.type}=${value}`;
}

function rfc2253(nameDer: Uint8Array, escMsb: boolean): string {
  // RFC 2253 §2.1: the RDNSequence is written starting with its last element.
  return [...readName(nameDer)]
    .reverse()
    .map((rdn) => [...rdn].reverse().map((attribute) => rfc2253Attribute(attribute, escMsb)).join("+"))
    .join(",");
}

/** The bytes X509_NAME_oneline prints: the ASN1_STRING data (content octets; the whole DER of a SEQUENCE). */
function onelineOctets(der: Uint8Array): Uint8Array {
  const element = readDerElement(der);
  if (element === null || (element.tag & 0x20) !== 0) return der;
  // A BIT STRING's data leaves out the unused-bits octet.
  return element.tag === 0x03 ? element.content.subarray(1) : element.content;
}

/** OpenSSL 3 crypto/x509/x509_obj.c: octets outside 0x20–0x7E as `\xXX`; `/` and `+` backslash-escaped. */
function escapeOneline(octets: Uint8Array): string {
  let text = "";
  for (const octet of octets) {
    if (octet < 0x20 || octet > 0x7e) text += `\\x${toUpperHex(Uint8Array.of(octet))}`;
    else text += octet === 0x2f || octet === 0x2b ? `\\${String.fromCharCode(octet)}` : String.fromCharCode(octet);
  }
  return text;
}

function onelineAttribute(attribute: DnAttribute): string {
  return `${OPENSSL_SHORT_NAMES.get(attribute.type) ?? attribute.type}=${escapeOneline(onelineOctets(attribute.der))}`;
}

// ssl_sock_get_dn_oneline writes an unknown type's dotted OID through i2t_ASN1_OBJECT into `char tmp[128]`.
const HAPROXY_OID_CHARS = 127;

/** ssl_sock_get_dn_oneline: `/`, OBJ_nid2sn (or the dotted OID), `=`, then the ASN1_STRING data as is. */
function haproxyAttribute(attribute: DnAttribute): string {
  const name = OPENSSL_SHORT_NAMES.get(attribute.type) ?? attribute.type;
  if (name.length > HAPROXY_OID_CHARS) {
    // OBJ_obj2txt cuts the OID there (recent OpenSSL writes nothing at all for one over 586 content octets):
    // the entry would no longer name its type, so refuse rather than guess which spelling HAProxy sent.
    throw new EdgeError("PROFILE_VALUE_UNSAFE", "profiles", `a DN attribute type is longer than HAProxy's ${HAPROXY_OID_CHARS}-character buffer`);
  }
  const octets = onelineOctets(attribute.der);
  // RFC 9110 §5.5: a field value holds HTAB, SP, VCHAR and obs-text only. ssl_sock_get_dn_oneline escapes
  // no CR, LF or other control (a NUL cuts or, in newer HAProxy, drops the value); refuse instead of emitting one.
  if (octets.some((octet) => (octet < 0x20 && octet !== 0x09) || octet === 0x7f)) {
    throw new EdgeError("PROFILE_VALUE_UNSAFE", "profiles", `DN attribute ${attribute.type} (${name}) holds a control octet, which a header field value cannot carry`);
  }
  return `/${name}=${Buffer.from(octets).toString("latin1")}`;
}

/**
 * Writes a Name (its DER) in one of the {@link DnFormat}s, byte for byte as the product named there:
 *
 * - `rfc2253`: most specific RDN first, `,` between RDNs and `+` inside a multi-valued RDN (whose members
 *   are also written last-encoded first, as XN_FLAG_DN_REV walks entries), OpenSSL short names, unknown
 *   types as `1.2.3=#<DER hex>`, RFC 2253 escaping, and every UTF-8 octet ≥ 0x80 as `\XX`
 *   (`São Paulo` → `S\C3\A3o Paulo`). `=` and `/` are not escaped.
 * - `rfc2253-utf8`: `rfc2253` with every octet ≥ 0x80 of the UTF-8 written as is (`São Paulo` → the
 *   octets `S C3 A3 o Paulo`); controls and DEL are still `\XX`, specials still backslash-escaped.
 * - `oneline`: DER order, `/type=value`, `+` before the further members of a multi-valued RDN, the raw
 *   content octets with those outside 0x20–0x7E as `\xXX` (`S\xC3\xA3o Paulo`; a BMPString shows its
 *   UCS-2 octets) and `/`, `+` escaped as `\/`, `\+`. That is OpenSSL ≥ 3.0 (openssl PR #12769); 1.1.1
 *   escaped neither and used `/` inside multi-valued RDNs, so a value containing `/` was ambiguous.
 * - `haproxy-oneline`: DER order (X509_NAME_entry_count), `/type=value` before every entry, members of a
 *   multi-valued RDN included (no `+`), OpenSSL short names or the dotted OID, and the value's content
 *   octets copied with no escaping and no conversion: a UTF8String's UTF-8, a BMPString's UCS-2, a
 *   T61String's Latin-1. Ambiguous when a value holds `/` or `=`, as HAProxy's own is.
 *
 * The octets of `rfc2253-utf8` and `haproxy-oneline` are returned as a binary string, one character
 * U+0000–U+00FF per octet, which is how Node writes a header value (Latin-1).
 *
 * @throws EdgeError `CERT_MALFORMED` when the bytes are not a Name; (`rfc2253`, `rfc2253-utf8`)
 * `PROFILE_VALUE_UNSAFE` for a string value OpenSSL would not have accepted (invalid UTF-8, odd-length
 * BMPString, a surrogate); (`haproxy-oneline`) `PROFILE_VALUE_UNSAFE` for a value holding a control octet
 * other than HTAB, or DEL, and for an OID type longer than HAProxy's buffer. `oneline` and
 * `haproxy-oneline` print octets and do not judge their string type.
 */
export function formatName(nameDer: Uint8Array, format: DnFormat): string {
  switch (format) {
    case "rfc2253":
      return rfc2253(nameDer, true);
    case "rfc2253-utf8":
      return rfc2253(nameDer, false);
    case "oneline":
      return readName(nameDer)
        .map((rdn) => `/${rdn.map(onelineAttribute).join("+")}`)
        .join("");
    case "haproxy-oneline":
      return readName(nameDer).flat().map(haproxyAttribute).join("");
    case "ofb-rfc4514":
      return formatDn(nameDer, "ofb");
    case "der-base64":
      readName(nameDer); // fail closed: only a Name is forwarded
      return Buffer.from(nameDer).toString("base64");
  }
}
