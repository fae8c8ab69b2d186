/**
 * The value formats of header profiles: pure functions, each byte-exact with the
 * proxy or CDN it imitates (the source it follows is named on each). DN and certificate encodings live in
 * format-dn.ts and format-certificate.ts and are re-exported here.
 */
import { AsnConvert } from "@peculiar/asn1-schema";
import { Certificate, id_ce_subjectAltName } from "@peculiar/asn1-x509";
import { EdgeError } from "../errors.js";
import { readDerElement, toUpperHex } from "../pki/der-string.js";

export { formatName } from "./format-dn.js";
export type { DnFormat } from "./format-dn.js";
export { ProfileDecodeError, decodeCertificates, encodeCertificate, encodeCertificates } from "./format-certificate.js";
export type { CertEncoding } from "./format-certificate.js";

export type SerialFormat = "hex-upper" | "hex-lower" | "hex-upper-colon" | "hex-lower-colon" | "decimal";

/**
 * The sign and magnitude octets OpenSSL keeps for an INTEGER's content (crypto/asn1/a_int.c c2i_ibuf):
 * a two's-complement sign octet is dropped, a negative value is negated.
 */
function integerMagnitude(content: Uint8Array): { negative: boolean; magnitude: Uint8Array } {
  const first = content[0];
  if (first === undefined) throw new EdgeError("CERT_MALFORMED", "profiles", "serialNumber INTEGER has no content octets");
  const negative = (first & 0x80) !== 0;
  // A leading 0x00 (or 0xFF before a non-zero rest) is padding, legal only where it carries the sign.
  const padded = content.length > 1 && (first === 0 || (first === 0xff && content.subarray(1).some((octet) => octet !== 0)));
  if (padded && negative === (((content[1] ?? 0) & 0x80) !== 0)) {
    throw new EdgeError("CERT_MALFORMED", "profiles", "serialNumber INTEGER is not minimally encoded (X.690 §8.3.2)");
  }
  const octets = padded ? content.subarray(1) : content;
  if (!negative) return { negative, magnitude: octets };
  // Two's complement negation: invert and add one, from the last octet.
  const magnitude = new Uint8Array(octets.length);
  let carry = 1;
  for (let i = octets.length - 1; i >= 0; i--) {
    const sum = (~(octets[i] ?? 0) & 0xff) + carry;
    magnitude[i] = sum & 0xff;
    carry = sum >> 8;
  }
  return { negative, magnitude };
}

/**
 * A serial number from the certificate's serialNumber INTEGER content octets:
 * - `hex-upper`: OpenSSL i2a_ASN1_INTEGER as nginx `$ssl_client_serial` and Apache `SSL_CLIENT_M_SERIAL`
 *   print it (also HAProxy `ssl_c_serial,hex`, Cloudflare `cert_serial`): two uppercase digits per octet,
 *   without the sign octet (`00 8F …` → `8F…`), `-` before a negative value, `00` for zero. Like
 *   i2a_ASN1_INTEGER it writes `\` + LF after every 35 octets, which only a serial longer than RFC 5280's
 *   20 octets reaches, and which {@link isSafeFieldValue} then refuses.
 * - `hex-lower`: the same octets in lowercase, never wrapped.
 * - `hex-upper-colon`, `hex-lower-colon`: the octets `:`-separated (Azion `6C:0A:…`, CloudFront `4a:3f:…`).
 * - `decimal`: Traefik `SerialNumber` (Go `big.Int.String`), signed.
 * @throws EdgeError `CERT_MALFORMED` for empty content or a padding octet OpenSSL rejects.
 */
export function formatSerial(serialContent: Uint8Array, format: SerialFormat): string {
  const { negative, magnitude } = integerMagnitude(serialContent);
  const sign = negative ? "-" : "";
  const pairs = Array.from(magnitude, (octet) => toUpperHex(Uint8Array.of(octet)));
  switch (format) {
    case "hex-upper":
      return sign + pairs.map((pair, i) => (i !== 0 && i % 35 === 0 ? `\\\n${pair}` : pair)).join("");
    case "hex-lower":
      return sign + pairs.join("").toLowerCase();
    case "hex-upper-colon":
      return sign + pairs.join(":");
    case "hex-lower-colon":
      return sign + pairs.join(":").toLowerCase();
    case "decimal":
      return sign + BigInt(`0x${pairs.join("")}`).toString(10);
  }
}

export type DigestFormat = "hex-lower" | "hex-upper" | "hex-upper-colon" | "hex-lower-colon" | "base64" | "base64url";

/**
 * A digest (SHA-256 or SHA-1 output) as text: `hex-lower` (Envoy `Hash`, nginx `$ssl_client_fingerprint`,
 * Cloudflare), `hex-upper`, colon-separated pairs (Node `fingerprint256` is `hex-upper-colon`), `base64`
 * with padding (GCP `{client_cert_sha256_fingerprint}`), `base64url` without padding (RFC 8705 §3.1 form).
 */
export function formatDigest(digest: Uint8Array, format: DigestFormat): string {
  const bytes = Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength);
  switch (format) {
    case "hex-lower":
      return bytes.toString("hex");
    case "hex-upper":
      return toUpperHex(digest);
    case "hex-upper-colon":
      return toUpperHex(digest).replace(/..(?!$)/g, "$&:");
    case "hex-lower-colon":
      return bytes.toString("hex").replace(/..(?!$)/g, "$&:");
    case "base64":
      return bytes.toString("base64");
    case "base64url":
      return bytes.toString("base64url");
  }
}

export type TimeFormat = "rfc3339" | "unix" | "openssl" | "generalized" | "haproxy";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"] as const;
const two = (n: number) => String(n).padStart(2, "0");

/**
 * A validity instant (UTC, whole seconds; milliseconds are dropped):
 * - `rfc3339`: `2023-09-21T01:50:17Z` (AWS ALB `-Validity`, GCP).
 * - `unix`: seconds since the epoch (Traefik `NB`/`NA`).
 * - `openssl`: ASN1_TIME_print as nginx `$ssl_client_v_start` / Apache `SSL_CLIENT_V_START` write it,
 *   `Sep 21 01:50:17 2023 GMT`, the day padded with a space (`Sep  5 …`).
 * - `generalized`: `20230921015017Z`.
 * - `haproxy`: `ssl_c_notbefore`, `230921015017Z`: HAProxy (ssl_sock_get_time) copies a UTCTime and
 *   drops a GeneralizedTime's `20`, and has no value outside 2000–2099.
 * @throws EdgeError `PROFILE_VALUE_UNSAFE` for an invalid date, a year outside 0000–9999, or (`haproxy`)
 * outside 2000–2099.
 */
export function formatTime(date: Date, format: TimeFormat): string {
  const ms = date.getTime();
  const year = date.getUTCFullYear();
  const lowest = format === "haproxy" ? 2000 : 0;
  const highest = format === "haproxy" ? 2099 : 9999;
  if (!Number.isFinite(ms) || year < lowest || year > highest) {
    throw new EdgeError("PROFILE_VALUE_UNSAFE", "profiles", `a date cannot be written in the ${format} time format`);
  }
  const month = date.getUTCMonth();
  const day = date.getUTCDate();
  const time = [date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()].map(two);
  const digits = `${two(month + 1)}${two(day)}${time.join("")}Z`;
  switch (format) {
    case "rfc3339":
      return `${String(year).padStart(4, "0")}-${two(month + 1)}-${two(day)}T${time.join(":")}Z`;
    case "unix":
      return String(Math.floor(ms / 1000));
    case "openssl":
      // crypto/asn1/a_time.c ASN1_TIME_print: "%s %2d %02d:%02d:%02d%.*s %d GMT"
      return `${MONTHS[month]} ${String(day).padStart(2, " ")} ${time.join(":")} ${year} GMT`;
    case "generalized":
      return `${String(year).padStart(4, "0")}${digits}`;
    case "haproxy":
      return `${two(year % 100)}${digits}`;
  }
}

// Envoy headers.rst: "If the value contains a comma, semicolon or equal sign, the value is double-quoted.
// Double-quotes in the value are replaced by backslash-double-quote (\")".
const XFCC_NEEDS_QUOTES = /[,;="]/;
// Envoy conn_manager_utility.cc always quotes these three keys.
const XFCC_ALWAYS_QUOTED: ReadonlySet<string> = new Set(["cert", "chain", "subject"]);

/**
 * One Envoy x-forwarded-client-cert value (Envoy headers.rst): double-quoted when `alwaysQuote` or when it
 * contains `,` `;` `=` or `"`, with `"` written `\"`. This is Envoy's documented rule; Envoy's code quotes
 * `Cert`, `Chain` and `Subject` without escaping and never quotes `URI`/`DNS`, so a value holding `"` (an
 * RFC 2253 `\"`) or a URI SAN holding `,;=` differs from Envoy's bytes, where Envoy's would be ambiguous.
 * A `\` is not escaped (Envoy's grammar has no `\\`), so a value with `\` before a `"` or at its end is refused
 * (`PROFILE_VALUE_UNSAFE`): it would read as an escaped quote and let the rest of the header inject keys.
 */
export function xfccValue(value: string, alwaysQuote: boolean): string {
  if (!alwaysQuote && !XFCC_NEEDS_QUOTES.test(value)) return value;
  // Without a `\\` escape in the grammar, a `\` before a quote (ours or the closing one) lets the value end early
  // for any reader that treats `\` as an escape: fail closed rather than let a certificate field inject keys.
  if (/\\("|$)/.test(value)) throw new EdgeError("PROFILE_VALUE_UNSAFE", "profiles", "an x-forwarded-client-cert value with '\\' before a quote or at its end cannot be written unambiguously");
  return `"${value.replaceAll('"', '\\"')}"`;
}

/**
 * One XFCC element from ordered `[key, value, alwaysQuote?]` pairs, joined with `;` (Envoy
 * `absl::StrJoin(client_cert_details, ";")`). `alwaysQuote` defaults to true for `Cert`, `Chain` and
 * `Subject`. URI and DNS repeat as one pair per SAN.
 * @throws TypeError for a key that is not letters only (keys are configuration, never peer data).
 */
export function xfccElement(pairs: readonly (readonly [key: string, value: string, alwaysQuote?: boolean])[]): string {
  return pairs
    .map(([key, value, alwaysQuote]) => {
      if (!/^[A-Za-z]+$/.test(key)) throw new TypeError(`XFCC key ${JSON.stringify(key)} is not a letters-only name`);
      return `${key}=${xfccValue(value, alwaysQuote ?? XFCC_ALWAYS_QUOTED.has(key.toLowerCase()))}`;
    })
    .join(";");
}

const RFC822_NAME = 0x81; // GeneralName [1] IMPLICIT IA5String (RFC 5280 §4.2.1.6)
const DNS_NAME = 0x82; // GeneralName [2] IMPLICIT IA5String
const URI = 0x86; // GeneralName [6] IMPLICIT IA5String
const IP_ADDRESS = 0x87; // GeneralName [7] IMPLICIT OCTET STRING

/** The subjectAltName entries profiles forward, each list in certificate order. */
export interface SubjectAltNames {
  readonly dns: string[];
  readonly email: string[];
  /** iPAddress octets (4 or 16 for an end entity; RFC 5280 §4.2.1.6). */
  readonly ip: Uint8Array[];
  readonly uri: string[];
}

/**
 * The DNS names, e-mail addresses, IP addresses and URIs of a certificate's subjectAltName, the strings
 * as their exact octets (Latin-1, so a header carries the bytes Envoy or Traefik would copy).
 * @throws EdgeError `CERT_MALFORMED` when the certificate or its subjectAltName does not parse, or the
 * extension appears twice (RFC 5280 §4.2).
 */
export function subjectAltNames(der: Uint8Array): SubjectAltNames {
  const malformed = (what: string, cause?: unknown) => new EdgeError("CERT_MALFORMED", "profiles", what, { cause });
  let certificate: Certificate;
  try {
    certificate = AsnConvert.parse(der, Certificate);
  } catch (cause) {
    throw malformed("certificate DER does not parse as an X.509 Certificate (RFC 5280 §4.1)", cause);
  }
  const extensions = (certificate.tbsCertificate.extensions ?? []).filter((e) => e.extnID === id_ce_subjectAltName);
  if (extensions.length > 1) throw malformed("certificate has more than one subjectAltName extension");
  const result: SubjectAltNames = { dns: [], email: [], ip: [], uri: [] };
  const extension = extensions[0];
  if (extension === undefined) return result;
  const value = new Uint8Array(extension.extnValue.buffer);
  const names = readDerElement(value);
  if (names?.tag !== 0x30 || names.encodedLength !== value.length) throw malformed("subjectAltName is not a SEQUENCE of GeneralName");
  for (let rest = names.content; rest.length > 0; ) {
    const name = readDerElement(rest);
    if (name === null) throw malformed("subjectAltName holds a malformed GeneralName");
    const text = () => Buffer.from(name.content).toString("latin1");
    if (name.tag === DNS_NAME) result.dns.push(text());
    else if (name.tag === RFC822_NAME) result.email.push(text());
    else if (name.tag === IP_ADDRESS) result.ip.push(name.content);
    else if (name.tag === URI) result.uri.push(text());
    rest = rest.subarray(name.encodedLength);
  }
  return result;
}

/**
 * RFC 9110 §5.5: true when `value` holds only HTAB, SP, VCHAR and obs-text (0x80–0xFF): no CR, LF, NUL,
 * other controls or DEL, and no character above U+00FF (Node writes header values as Latin-1).
 */
export function isSafeFieldValue(value: string): boolean {
  return /^[\t\x20-\x7e\x80-\xff]*$/.test(value);
}
