/**
 * Certificates as header values, in the encodings proxies and CDNs document (RFC 9440, Envoy, nginx, HAProxy, AWS
 * ALB, Apache mod_ssl, …), and back. Encoding is byte-exact with the product each encoding names; decoding tolerates
 * the real-world variants listed below and fails closed on anything else.
 */
import { AsnConvert } from "@peculiar/asn1-schema";
import { Certificate } from "@peculiar/asn1-x509";
import { EdgeError } from "../errors.js";
import { readDerElement, toUpperHex } from "../pki/der-string.js";

/**
 * - `sf-binary`: RFC 9440 §2.1, an RFC 8941 Byte Sequence `:<base64 DER>:` (Cloudflare `*_rfc9440`, GCP).
 * - `der-base64`: base64 of the DER, no armour or line breaks (HAProxy `ssl_c_der,base64`, Traefik, Azure ARR).
 * - `pem-urlencoded`: nginx `$ssl_client_escaped_cert` (also Envoy `Cert=`, `%DOWNSTREAM_PEER_CERT%`).
 * - `pem-urlencoded-aws`: AWS ALB `X-Amzn-Mtls-Clientcert[-Leaf]`, `+ = /` left unescaped.
 * - `pem-tab`: nginx `$ssl_client_cert` (deprecated).
 * - `pem-space`: Apache mod_headers `%{SSL_CLIENT_CERT}s`.
 */
export type CertEncoding = "sf-binary" | "der-base64" | "pem-urlencoded" | "pem-urlencoded-aws" | "pem-tab" | "pem-space";

/** A header value that does not hold certificates in the expected encoding. The message never quotes the value. */
export class ProfileDecodeError extends Error {
  override readonly name = "ProfileDecodeError";
  readonly encoding: CertEncoding;

  constructor(encoding: CertEncoding, problem: string, options?: { cause?: unknown }) {
    super(`${encoding}: ${problem}`, options);
    this.encoding = encoding;
  }
}

const BASE64 = (der: Uint8Array) => Buffer.from(der).toString("base64");

/**
 * OpenSSL PEM_write_bio_X509, which nginx, Apache and Envoy all call: 64-character lines, every line
 * (the END line included) ending in "\n".
 */
function pem(der: Uint8Array): string {
  const lines = BASE64(der).match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----\n`;
}

// RFC 3986 §2.3 unreserved characters: the only octets nginx's NGX_ESCAPE_URI_COMPONENT leaves alone.
const UNRESERVED = /[A-Za-z0-9\-._~]/;
// AWS ALB: "URL-encoded PEM format …, with +=/ as safe characters" (urllib-style quote(safe="+=/")).
const UNRESERVED_AWS = /[A-Za-z0-9\-._~+=/]/;

/** Percent-encodes every octet of `text` outside `keep`, uppercase hex (nginx ngx_escape_uri's "0123456789ABCDEF"). */
function percentEncode(text: string, keep: RegExp): string {
  let out = "";
  for (const octet of Buffer.from(text, "utf8")) {
    const char = String.fromCharCode(octet);
    out += octet < 0x80 && keep.test(char) ? char : `%${toUpperHex(Uint8Array.of(octet))}`;
  }
  return out;
}

function checkCertificateDer(der: Uint8Array): void {
  const element = readDerElement(der);
  if (element?.tag !== 0x30 || element.encodedLength !== der.length) {
    throw new EdgeError("CERT_MALFORMED", "profiles", "certificate is not a single DER SEQUENCE");
  }
}

/**
 * One certificate (DER) as a header value:
 * - `sf-binary`: `:` + base64 + `:`.
 * - `der-base64`: base64, no padding removed, no line breaks.
 * - `pem-urlencoded`: the PEM (trailing "\n" included) with every octet but `A–Z a–z 0–9 - . _ ~`
 *   percent-encoded (nginx ngx_ssl_get_escaped_certificate → ngx_escape_uri NGX_ESCAPE_URI_COMPONENT):
 *   `-----BEGIN%20CERTIFICATE-----%0AMII…%2F…%3D%0A-----END%20CERTIFICATE-----%0A`.
 * - `pem-urlencoded-aws`: the same with `+ = /` also left as they are.
 * - `pem-tab`: nginx ngx_ssl_get_certificate: the PEM without its final "\n", each other "\n" followed
 *   by a TAB. The LFs stay (nginx relies on obsolete line folding), so {@link isSafeFieldValue} refuses
 *   this value: nginx's deprecated `$ssl_client_cert` cannot be sent by a strict HTTP implementation.
 * - `pem-space`: Apache mod_headers unwrap_header: every CR and LF of the PEM turned into a space, so
 *   the value ends with a space after `-----END CERTIFICATE-----` (stripped as OWS by the receiver).
 * @throws EdgeError `CERT_MALFORMED` when `der` is not one DER SEQUENCE.
 */
export function encodeCertificate(der: Uint8Array, encoding: CertEncoding): string {
  checkCertificateDer(der);
  switch (encoding) {
    case "sf-binary":
      return `:${BASE64(der)}:`;
    case "der-base64":
      return BASE64(der);
    case "pem-urlencoded":
      return percentEncode(pem(der), UNRESERVED);
    case "pem-urlencoded-aws":
      return percentEncode(pem(der), UNRESERVED_AWS);
    case "pem-tab":
      return pem(der).slice(0, -1).replaceAll("\n", "\n\t");
    case "pem-space":
      return pem(der).replaceAll("\n", " ");
  }
}

/**
 * Several certificates in one value, in the given order, each encoded by {@link encodeCertificate} and
 * joined by `separator` (RFC 8941 §4.1.1 list members: `", "`). The `pem-urlencoded` encodings are the
 * concatenated PEMs percent-encoded as one string (Envoy `Chain=`, ALB passthrough); `separator` is
 * ignored for them. No certificates give `""`.
 */
export function encodeCertificates(ders: readonly Uint8Array[], encoding: CertEncoding, separator: string): string {
  if (encoding === "pem-urlencoded" || encoding === "pem-urlencoded-aws") {
    ders.forEach(checkCertificateDer);
    return percentEncode(ders.map(pem).join(""), encoding === "pem-urlencoded" ? UNRESERVED : UNRESERVED_AWS);
  }
  return ders.map((der) => encodeCertificate(der, encoding)).join(separator);
}

// Canonical base64 alphabet; RFC 8941 §4.2.7 asks parsers to accept missing "=" padding.
const BASE64_TEXT = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;
const WHITESPACE = /[\t\n\r ]+/g;
const PEM_BLOCK = /-----BEGIN CERTIFICATE-----([^-]*)-----END CERTIFICATE-----/g;
const OWS = /^[\t ]+|[\t ]+$/g;

function base64Bytes(text: string, encoding: CertEncoding): Uint8Array {
  if (!BASE64_TEXT.test(text)) throw new ProfileDecodeError(encoding, "invalid base64");
  return new Uint8Array(Buffer.from(text, "base64"));
}

/** The certificates in `bytes`: one DER Certificate, or (`many`) several concatenated. */
function certificatesIn(bytes: Uint8Array, encoding: CertEncoding, many: boolean): Uint8Array[] {
  if (bytes.length === 0) throw new ProfileDecodeError(encoding, "empty certificate");
  const found: Uint8Array[] = [];
  for (let rest = bytes; rest.length > 0; ) {
    const element = readDerElement(rest);
    if (element?.tag !== 0x30) throw new ProfileDecodeError(encoding, "not DER: no outer SEQUENCE");
    if (!many && element.encodedLength !== rest.length) throw new ProfileDecodeError(encoding, "bytes after the certificate's DER");
    const der = rest.slice(0, element.encodedLength);
    try {
      AsnConvert.parse(der, Certificate);
    } catch (cause) {
      throw new ProfileDecodeError(encoding, "DER is not an X.509 Certificate (RFC 5280 §4.1)", { cause });
    }
    found.push(der);
    rest = rest.subarray(element.encodedLength);
  }
  return found;
}

function percentDecode(text: string, encoding: CertEncoding): string {
  try {
    // Never form-decoding: a "+" stays "+" (AWS ALB leaves "+" unescaped; wso2/api-manager#3058, keycloak PR #31778).
    return decodeURIComponent(text);
  } catch (cause) {
    throw new ProfileDecodeError(encoding, "invalid percent-encoding", { cause });
  }
}

/** Every `CERTIFICATE` PEM block of `text`; only whitespace and `,` may stand between them. */
function pemCertificates(text: string, encoding: CertEncoding): Uint8Array[] {
  const blocks = [...text.matchAll(PEM_BLOCK)];
  if (blocks.length === 0) throw new ProfileDecodeError(encoding, "no -----BEGIN CERTIFICATE----- block");
  if (text.replace(PEM_BLOCK, "").replace(WHITESPACE, "").replaceAll(",", "") !== "") {
    throw new ProfileDecodeError(encoding, "text outside the PEM blocks");
  }
  return blocks.flatMap((block) => certificatesIn(base64Bytes((block[1] ?? "").replace(WHITESPACE, ""), encoding), encoding, false));
}

/**
 * Reads certificates back from a header value, in order. Tolerated variants:
 * - `sf-binary`: a list of Byte Sequences, repeated field lines joined with `,`, OWS around members.
 * - `der-base64`: `,`-separated certificates (Traefik), each possibly several concatenated DERs (HAProxy
 *   `ssl_c_chain_der`); whitespace, PEM armour, or percent-encoding (Traefik 2.8–2.9.1) around them.
 * - `pem-urlencoded`, `pem-urlencoded-aws`: `decodeURIComponent`, then PEM (several blocks for a chain).
 * - `pem-tab`, `pem-space`: PEM whose line breaks became TABs or spaces (whitespace is ignored).
 * `""` and Apache's `(null)` mean no certificate: `[]`.
 * @throws ProfileDecodeError on bad base64 or percent-encoding, missing PEM armour, stray text, or bytes
 * that are not a DER X.509 Certificate.
 */
export function decodeCertificates(value: string, encoding: CertEncoding): Uint8Array[] {
  const text = value.replace(OWS, "");
  if (text === "" || text === "(null)") return [];
  switch (encoding) {
    case "sf-binary":
      return text.split(",").flatMap((member) => {
        const bytes = /^:([^:]*):$/.exec(member.replace(OWS, ""));
        if (!bytes) throw new ProfileDecodeError(encoding, "list member is not an RFC 8941 Byte Sequence");
        return certificatesIn(base64Bytes(bytes[1] ?? "", encoding), encoding, false);
      });
    case "der-base64": {
      const plain = text.includes("%") ? percentDecode(text, encoding) : text;
      if (plain.includes("-----BEGIN")) return pemCertificates(plain, encoding);
      return plain.split(",").flatMap((part) => certificatesIn(base64Bytes(part.replace(WHITESPACE, ""), encoding), encoding, true));
    }
    case "pem-urlencoded":
    case "pem-urlencoded-aws":
      return pemCertificates(percentDecode(text, encoding), encoding);
    case "pem-tab":
    case "pem-space":
      return pemCertificates(text, encoding);
  }
}
