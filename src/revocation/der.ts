/**
 * A minimal DER walker (X.690 §8.1, §10.1) for the two structures this stage reads on hot or large paths: the
 * revoked-certificate list of a CRL (up to millions of entries; a general ASN.1 decoder builds several objects
 * per entry) and the serial number and CRL distribution points of a presented certificate. Small pieces
 * (times, algorithm identifiers, extensions) are handed to @peculiar/asn1-x509 once located.
 */

/** One element: its tag byte, where its content starts and where it ends (exclusive). */
export interface Tlv {
  readonly tag: number;
  readonly start: number;
  readonly content: number;
  readonly end: number;
}

export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  oid: 0x06,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
} as const;

/** Malformed or truncated DER; the message says where. */
export class DerError extends Error {
  override readonly name = "DerError";
}

/**
 * Reads the element at `offset`, which must end by `limit`. Definite lengths only (DER); a length running past
 * `limit` is reported as truncation, which is what a cut-off download looks like.
 */
export function readTlv(buf: Uint8Array, offset: number, limit: number): Tlv {
  if (offset + 2 > limit) throw new DerError(`truncated at byte ${offset}`);
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`multi-byte tag at byte ${offset}`);
  let length = buf[offset + 1]!;
  let content = offset + 2;
  if (length & 0x80) {
    const n = length & 0x7f;
    if (n === 0) throw new DerError(`indefinite length at byte ${offset}`);
    if (n > 4) throw new DerError(`length of ${n} bytes at byte ${offset}`);
    if (content + n > limit) throw new DerError(`truncated at byte ${offset}`);
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + buf[content + i]!;
    content += n;
  }
  const end = content + length;
  if (end > limit) throw new DerError(`element at byte ${offset} needs ${end - limit} more bytes (truncated)`);
  return { tag, start: offset, content, end };
}

/** Reads the element at `offset` and checks its tag. */
export function expectTlv(buf: Uint8Array, offset: number, limit: number, tag: number, what: string): Tlv {
  const tlv = readTlv(buf, offset, limit);
  if (tlv.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)} at byte ${offset}, found 0x${tlv.tag.toString(16)}`);
  return tlv;
}

/** The elements inside a constructed element, in order. */
export function* children(buf: Uint8Array, parent: Tlv): Generator<Tlv> {
  for (let at = parent.content; at < parent.end; ) {
    const child = readTlv(buf, at, parent.end);
    yield child;
    at = child.end;
  }
}

/** True when the OBJECT IDENTIFIER element holds exactly `oid` (its content bytes). */
export function isOid(buf: Uint8Array, tlv: Tlv, oid: Uint8Array): boolean {
  if (tlv.tag !== TAG.oid || tlv.end - tlv.content !== oid.length) return false;
  for (let i = 0; i < oid.length; i++) if (buf[tlv.content + i] !== oid[i]) return false;
  return true;
}
