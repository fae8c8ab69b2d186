/**
 * Traefik's `X-Forwarded-Tls-Client-Cert-Info` (Traefik PassTLSClientCert middleware docs), byte for byte as the
 * PassTLSClientCert middleware writes it (traefik pkg/middlewares/passtlsclientcert/pass_tls_client_cert.go,
 * getCertInfo and getSubjectDNInfo / getIssuerDNInfo). Traefik reads the certificates with Go's crypto/x509, so the
 * DN parts follow Go's pkix.Name (FillFromRDNSequence), the serial is big.Int.String and the SAN list follows the
 * parsed fields' order (DNS names, e-mail addresses, IP addresses, URIs).
 */
import { EdgeError } from "../errors.js";
import { readName, type DistinguishedName } from "../identity/dn.js";
import { certificateParts } from "../identity/parse.js";
import { formatSerial, subjectAltNames } from "./formats.js";
import type { TRAEFIK_DN_FIELDS } from "./schema.js";

export type TraefikDnField = (typeof TRAEFIK_DN_FIELDS)[number];

export interface TraefikInfoOptions {
  /** Subject attributes to write; `undefined` writes no Subject. */
  readonly subject?: readonly TraefikDnField[] | undefined;
  /** Issuer attributes to write (never OU, which Traefik does not write for the issuer); `undefined` writes no Issuer. */
  readonly issuer?: readonly TraefikDnField[] | undefined;
  readonly serialNumber: boolean;
  readonly notBefore: boolean;
  readonly notAfter: boolean;
  readonly sans: boolean;
}

const OID = {
  DC: "0.9.2342.19200300.100.1.25",
  C: "2.5.4.6",
  ST: "2.5.4.8",
  L: "2.5.4.7",
  O: "2.5.4.10",
  OU: "2.5.4.11",
  SN: "2.5.4.5",
  CN: "2.5.4.3",
} as const satisfies Record<TraefikDnField, string>;

/** Go pkix.Name keeps every C, ST, L, O and OU in order, but one SerialNumber and one CommonName: the last. */
const SINGLE: ReadonlySet<TraefikDnField> = new Set(["SN", "CN"]);

/** Traefik's fixed order: DC from Name.Names first, then C, ST, L, O, OU, SN, CN (getSubjectDNInfo). */
const ORDER: readonly TraefikDnField[] = ["DC", "C", "ST", "L", "O", "OU", "SN", "CN"];

/** A string as the octets Go holds for it (UTF-8), one Latin-1 character per octet. */
const goOctets = (text: string) => Buffer.from(text, "utf8").toString("latin1");

/** getSubjectDNInfo / getIssuerDNInfo: `X=value,` per selected attribute (empty values skipped, except DC), without the last `,`. */
function dnInfo(name: DistinguishedName, fields: readonly TraefikDnField[]): string {
  const selected = new Set(fields);
  const parts: string[] = [];
  for (const field of ORDER) {
    if (!selected.has(field)) continue;
    // Go's parser turns every string type into a Go string; a value of another type makes Go refuse the
    // certificate (x509: invalid RDN value), so no certificate Traefik accepts has one.
    const values = name.flatMap((rdn) => rdn.filter((a) => a.type === OID[field] && a.text !== null).map((a) => a.text!));
    const kept = SINGLE.has(field) ? values.slice(-1) : values;
    for (const value of kept) if (value.length > 0 || field === "DC") parts.push(`${field}=${goOctets(value)}`);
  }
  return parts.join(",");
}

/** Go net.IP.String: dotted IPv4 (also for an IPv4-mapped IPv6 address), else RFC 5952 text. */
function ipText(octets: Uint8Array): string {
  const mapped = octets.length === 16 && octets.subarray(0, 10).every((o) => o === 0) && octets[10] === 0xff && octets[11] === 0xff;
  if (octets.length === 4 || mapped) return Array.from(octets.subarray(-4)).join(".");
  if (octets.length !== 16) throw new EdgeError("CERT_MALFORMED", "profiles", `subjectAltName iPAddress has ${octets.length} octets (RFC 5280 §4.2.1.6: 4 or 16)`);
  const groups = Array.from({ length: 8 }, (_, i) => ((octets[2 * i]! << 8) | octets[2 * i + 1]!).toString(16));
  // The WHATWG URL serializer compresses the first longest run of two or more zero groups, as Go does.
  return new URL(`http://[${groups.join(":")}]`).hostname.slice(1, -1);
}

/** The Unix time in seconds as Go's `uint64(t.Unix())` prints it (a time before 1970 wraps around). */
const unixSeconds = (date: Date) => BigInt.asUintN(64, BigInt(Math.floor(date.getTime() / 1000))).toString();

/** Go url.QueryEscape of the octets: letters, digits and `-_.~` kept, space as `+`, every other octet as `%XX`. */
function queryEscape(octets: string): string {
  let out = "";
  for (let i = 0; i < octets.length; i++) {
    const c = octets.charCodeAt(i);
    const keep = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d || c === 0x5f || c === 0x2e || c === 0x7e;
    if (keep) out += octets[i];
    else if (c === 0x20) out += "+";
    else out += `%${c.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

function certificateInfo(der: Uint8Array, o: TraefikInfoOptions): string {
  const parts = certificateParts(der);
  if (parts === null) throw new EdgeError("CERT_MALFORMED", "profiles", "certificate DER does not parse as an X.509 Certificate (RFC 5280 §4.1)");
  const tbs = parts.certificate.tbsCertificate;
  const values: string[] = [];
  const subject = o.subject ? dnInfo(readName(parts.subject), o.subject) : "";
  if (subject !== "") values.push(`Subject="${subject}"`);
  // getIssuerDNInfo has no OU.
  const issuer = o.issuer ? dnInfo(readName(parts.issuer), o.issuer.filter((field) => field !== "OU")) : "";
  if (issuer !== "") values.push(`Issuer="${issuer}"`);
  if (o.serialNumber) values.push(`SerialNumber="${formatSerial(new Uint8Array(tbs.serialNumber), "decimal")}"`);
  if (o.notBefore) values.push(`NB="${unixSeconds(tbs.validity.notBefore.getTime())}"`);
  if (o.notAfter) values.push(`NA="${unixSeconds(tbs.validity.notAfter.getTime())}"`);
  if (o.sans) {
    // The SAN octets are IA5String content, already one Latin-1 character per octet. Go prints a URI by
    // re-serialising its parsed url.URL, which gives back the same text for a URI in RFC 3986 form.
    const san = subjectAltNames(der);
    const all = [...san.dns, ...san.email, ...san.ip.map(ipText), ...san.uri];
    if (all.length > 0) values.push(`SAN="${all.join(",")}"`);
  }
  return values.join(";");
}

/**
 * The header value for the certificates the client sent (leaf first, as Go's PeerCertificates): each
 * certificate's fields joined with `;`, certificates joined with `,`, the whole query-escaped. Nothing in
 * a field is escaped before that (Traefik writes `O=A, B` as is), so only the query-escaping keeps a
 * certificate's text inside the header.
 * @throws EdgeError `CERT_MALFORMED` for a certificate or extension that does not parse.
 */
export function traefikInfo(presented: readonly Uint8Array[], o: TraefikInfoOptions): string {
  return queryEscape(presented.map((der) => certificateInfo(der, o)).join(","));
}
