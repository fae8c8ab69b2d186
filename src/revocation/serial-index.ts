/**
 * The revoked serial numbers of one CRL, indexed for O(1) look-up without a string or object per entry: an
 * open-addressing hash table (linear probing, load ≤ 0.5) of offsets into the CRL's own DER, where each slot's
 * serial is read back for comparison. A million entries cost 8 MB of table on top of the DER the CRL is kept
 * as anyway; a `Map` keyed by hex strings took 74 MB of heap and twice the indexing time (bench/revocation.ts).
 *
 * Serials are compared as normalised big-endian bytes: the INTEGER's content without the leading 0x00 bytes
 * that only keep it positive (see `serialBytes`), so a certificate and its CRL entry always meet.
 */
export interface SerialIndex {
  readonly size: number;
  /** The offset (in the CRL DER) of the entry revoking `serial`, if any. `hash` is {@link serialHash} of it. */
  find(serial: Uint8Array, hash: number): number | undefined;
}

/** The index of a CRL that revokes nothing. */
export const NO_SERIALS: SerialIndex = Object.freeze({ size: 0, find: () => undefined });

/** Where an entry's normalised serial lies in the DER. */
export type SerialLocator = (entryOffset: number) => { readonly start: number; readonly end: number };

/** FNV-1a (32-bit) of the normalised serial: cheap, and the table's slot is its low bits. */
export function serialHash(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

/** The INTEGER content `[start, end)` without sign-padding 0x00 bytes (one byte always remains). */
export function normalisedSerial(bytes: Uint8Array, start: number, end: number): { start: number; end: number } {
  while (start < end - 1 && bytes[start] === 0) start++;
  return { start, end };
}

/** An index being filled: `add` each entry's offset (a serial listed twice keeps its first entry). */
export interface SerialIndexBuilder extends SerialIndex {
  add(entryOffset: number): void;
}

/** An empty index sized for `count` entries of `der`. */
export function createSerialIndex(der: Uint8Array, count: number, locate: SerialLocator): SerialIndexBuilder {
  let capacity = 8;
  while (capacity < count * 2) capacity *= 2;
  const mask = capacity - 1;
  // Offset + 1, so that 0 marks an empty slot.
  const slots = new Int32Array(capacity);
  let size = 0;

  /** The slot holding this serial, or the complement of the empty slot where it would go. */
  function probe(bytes: Uint8Array, start: number, end: number, hash: number): number {
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const held = slots[slot]!;
      if (held === 0) return ~slot;
      const s = locate(held - 1);
      if (equal(der, s.start, s.end, bytes, start, end)) return slot;
    }
  }

  return {
    get size() {
      return size;
    },
    add(offset) {
      if (size * 2 >= capacity) throw new RangeError("serial index is full");
      const s = locate(offset);
      const slot = probe(der, s.start, s.end, serialHash(der, s.start, s.end));
      if (slot >= 0) return;
      slots[~slot] = offset + 1;
      size++;
    },
    find(serial, hash) {
      const slot = probe(serial, 0, serial.length, hash);
      return slot >= 0 ? slots[slot]! - 1 : undefined;
    },
  };
}

function equal(a: Uint8Array, aStart: number, aEnd: number, b: Uint8Array, bStart: number, bEnd: number): boolean {
  if (aEnd - aStart !== bEnd - bStart) return false;
  for (let i = 0; i < aEnd - aStart; i++) if (a[aStart + i] !== b[bStart + i]) return false;
  return true;
}
