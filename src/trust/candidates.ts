import { X509Certificate } from "node:crypto";
import { OID, parseCertInfo, type CertInfo } from "../pki/certificate.js";
import { readDerElement } from "../pki/der-string.js";
import { sha256Hex } from "../pki/thumbprint.js";

/** One raw entry of a source: a zip member, one `x5c` element, one file. */
export interface SourceEntry {
  /** Where it came from, for the report (`ICP-Brasilv10.crt`, `keys[3].x5c[0]`). */
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** Why a certificate cannot be used; the stable part of a report line. */
export type DecodeProblem = "UNPARSEABLE" | "EXPLICIT_EC_PARAMETERS" | "KEY_UNDECODABLE";

/** Why a whole entry was passed over before any certificate was read from it. */
export type EntrySkipCode =
  | "UNSAFE_NAME"
  | "NOT_CRT"
  | "TOO_LARGE"
  | "UNSUPPORTED_COMPRESSION"
  | "NOT_A_CERTIFICATE"
  /** A folder source: an entry that is not a regular file (folders are not read recursively). */
  | "NOT_A_FILE"
  /** A folder source: a file without a certificate extension. */
  | "NOT_CERTIFICATE_FILE";

/**
 * One certificate found in an entry. `der` and `sha256` exist whenever the framing (PEM or DER) was
 * readable, so a retired or pinned root is recognised even when its key defeats Node/OpenSSL.
 */
export interface Decoded {
  readonly entry: string;
  readonly der: Uint8Array;
  readonly sha256: string;
  /** Parsed facts; `null` when the DER is not a certificate @peculiar/asn1-x509 can read. */
  readonly info: CertInfo | null;
  /** Node's view, usable for signatures; `null` whenever `problem` is set. */
  readonly x509: X509Certificate | null;
  readonly problem: { readonly code: DecodeProblem; readonly reason: string } | null;
}

/** An entry passed over whole: the source refused it, or it holds no certificate (neither PEM nor DER). */
export interface EntrySkip {
  readonly entry: string;
  readonly code: EntrySkipCode;
  readonly reason: string;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/g;
const DER_SEQUENCE = 0x30;

/**
 * Splits one entry into certificates, PEM (LF or CRLF, with or without a BOM) or DER, and decodes each independently
 * (the ITI zip mixes LF and CRLF PEM; older zips hold DER). Nothing here throws: every failure becomes a problem.
 */
export function decodeEntry(entry: SourceEntry): Decoded[] | EntrySkip {
  const ders = frame(entry.bytes);
  if (ders.length === 0) return { entry: entry.name, code: "NOT_A_CERTIFICATE", reason: "neither a PEM certificate nor DER" };
  return ders.map((der, i) => decodeDer(ders.length === 1 ? entry.name : `${entry.name}#${i + 1}`, der));
}

function frame(bytes: Uint8Array): Uint8Array[] {
  if (bytes[0] === DER_SEQUENCE) return [certificateElement(bytes)];
  // PEM is ASCII; text around the blocks (a BOM, comments) is ignored. latin1 maps bytes 1:1, never throws.
  const text = Buffer.from(bytes).toString("latin1");
  return [...text.replace(/\r\n?/g, "\n").matchAll(PEM_BLOCK)]
    .map((m) => Buffer.from((m[1] ?? "").replace(/\s+/g, ""), "base64"))
    .filter((der) => der.length > 0)
    .map((der) => certificateElement(new Uint8Array(der)));
}

/**
 * The certificate's own DER element, without bytes that follow it. OpenSSL and Node read the first element and
 * ignore the rest (a published PEM whose final `=` was JSON-escaped to `u003d` decodes to 4 extra bytes), so the
 * fingerprint is the certificate's, as a TLS peer sends it. Bytes that are not one element are left to the parser.
 */
function certificateElement(der: Uint8Array): Uint8Array {
  const element = readDerElement(der);
  return element === null ? der : der.subarray(0, element.encodedLength);
}

/** Decodes one DER certificate; the first failing check names the problem. */
function decodeDer(entry: string, der: Uint8Array): Decoded {
  const sha256 = sha256Hex(der);
  const result = (info: CertInfo | null, x509: X509Certificate | null, code: DecodeProblem | null, reason = ""): Decoded => ({
    entry,
    der,
    sha256,
    info,
    x509: code === null ? x509 : null,
    problem: code === null ? null : { code, reason },
  });
  let info: CertInfo;
  let x509: X509Certificate;
  try {
    info = parseCertInfo(der);
    x509 = new X509Certificate(der);
  } catch (cause) {
    return result(null, null, "UNPARSEABLE", `not a certificate Node can parse (${shortMessage(cause)})`);
  }
  // Brainpool keys with explicit curve parameters (roots v4/v13, AC MRE, in older ITI zips) fail
  // OpenSSL 3 verify with error 94 although Node's verify() accepts them: useless in a TLS store.
  if (info.keyAlgorithm === OID.ecPublicKey && info.ecCurve !== null && !info.ecCurve.startsWith("06")) {
    return result(info, x509, "EXPLICIT_EC_PARAMETERS", "EC public key with explicit curve parameters (OpenSSL verify error 94)");
  }
  try {
    // Root v7's key OID (1.3.6.1.4.1.44588.2.1) parses as a certificate but not as a key (OpenSSL: decode error).
    void x509.publicKey;
  } catch (cause) {
    return result(info, x509, "KEY_UNDECODABLE", `public key ${info.keyAlgorithm} cannot be decoded (${shortMessage(cause)})`);
  }
  return result(info, x509, null);
}

function shortMessage(cause: unknown): string {
  const e = cause as { code?: string; message?: string };
  return (e?.code ?? e?.message ?? String(cause)).slice(0, 120);
}
