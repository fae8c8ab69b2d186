import { randomBytes, sign, type KeyObject } from "node:crypto";

/**
 * Large CRLs for the benchmarks, written as DER directly (bench/revocation.ts, bench/operations.ts):
 * @peculiar/x509's X509CrlGenerator builds an object tree per entry, too slow at ICP-Brasil's sizes. Every entry
 * is a serial, a UTCTime revocation date and a reasonCode (keyCompromise); the CRL is v2, signed
 * sha256WithRSAEncryption, with no CRL extensions.
 */

const SHA256_RSA = Buffer.from("300d06092a864886f70d01010b0500", "hex");
const REASON_KEY_COMPROMISE = Buffer.from("300c300a0603551d1504030a0101", "hex");
const HOUR = 3_600_000;

/** A DER TLV with a definite length. */
function tlv(tag: number, content: Uint8Array): Buffer {
  const n = content.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : n < 0x10000 ? [0x82, n >> 8, n & 0xff] : n < 0x1000000 ? [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff] : [0x84, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...length]), content]);
}

function utcTime(ms: number): Buffer {
  const iso = new Date(ms).toISOString(); // 2025-01-02T03:04:05.000Z
  return tlv(0x17, Buffer.from(`${iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`, "latin1"));
}

/** `count` random positive 16-byte serials, packed: serial i is bytes [16i, 16i + 16), its first byte 0x01–0x7f. */
export function randomSerials(count: number): Buffer {
  const serials = randomBytes(count * 16);
  for (let i = 0; i < count; i++) serials[i * 16] = (serials[i * 16]! & 0x7f) | 0x01;
  return serials;
}

/** What a CRL lists and who signs it. */
export interface CrlContent {
  /** The issuing AC's subject Name, DER (`CertInfo.subjectDer`). */
  readonly issuerDer: Uint8Array;
  /** The AC's RSA private key. */
  readonly key: KeyObject;
  /** Packed 16-byte serials ({@link randomSerials}); none when absent. */
  readonly serials?: Buffer;
  /**
   * Further serials of any length, listed after the packed ones: unsigned big-endian bytes without sign padding,
   * as `certificateFacts(der).serial` gives a certificate's (a 0x00 is added where the INTEGER needs one).
   */
  readonly extra?: readonly Uint8Array[];
  /** thisUpdate is a minute before, every revocationDate a day before, nextUpdate `validMs` after (default 1 h). */
  readonly now: number;
  readonly validMs?: number;
}

/** A signed CRL (DER) of {@link CrlContent}. Without any serial, `revokedCertificates` is left out (RFC 5280 §5.1.2.6). */
export function signedCrl(c: CrlContent): Buffer {
  const packed = c.serials ? c.serials.length / 16 : 0;
  const extra = (c.extra ?? []).map((s) => Buffer.from(s[0]! & 0x80 ? [0, ...s] : s));
  // Each entry: SEQUENCE { INTEGER serial, UTCTime, extensions }, shorter than 128 bytes (serials are at most 21).
  const tail = Buffer.concat([utcTime(c.now - 86_400_000), REASON_KEY_COMPROMISE]);
  const entries = Buffer.allocUnsafe(packed * (4 + 16 + tail.length) + extra.reduce((n, s) => n + 4 + s.length + tail.length, 0));
  const write = (at: number, source: Buffer, start: number, end: number) => {
    entries[at++] = 0x30;
    entries[at++] = 2 + end - start + tail.length;
    entries[at++] = 0x02;
    entries[at++] = end - start;
    at += source.copy(entries, at, start, end);
    return at + tail.copy(entries, at);
  };
  let at = 0;
  for (let i = 0; i < packed; i++) at = write(at, c.serials!, i * 16, i * 16 + 16);
  for (const s of extra) at = write(at, s, 0, s.length);
  const revoked = at > 0 ? [tlv(0x30, entries)] : [];
  const tbs = tlv(0x30, Buffer.concat([Buffer.from([0x02, 0x01, 0x01]), SHA256_RSA, c.issuerDer, utcTime(c.now - 60_000), utcTime(c.now + (c.validMs ?? HOUR)), ...revoked]));
  const signature = sign("sha256", tbs, c.key);
  return tlv(0x30, Buffer.concat([tbs, SHA256_RSA, tlv(0x03, Buffer.concat([Buffer.from([0]), signature]))]));
}
