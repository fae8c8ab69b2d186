/**
 * Rules both `DirectoryStore` implementations share, so the memory and Redis stores answer alike: the CNPJ
 * index and how change listeners are called.
 */
import type { Organisation, SnapshotMeta } from "./types.js";

/** CNPJ punctuation as printed (`12.345.678/0001-95`) and the spaces some documents add. */
const PUNCTUATION = /[./\-\s]/g;

/**
 * The index keys an organisation is found under: its registration number and, when it is longer than a CNPJ root
 * (9 to 14 characters), also its 8-character root. Most 2021 Directory entries hold only the root while
 * certificates carry the full CNPJ, and the OFB sandbox's own entry is "13.353.236/001-89" (13 characters, its
 * certificates' serialNumber 1335323600189): comparing the root as well finds each from the other.
 */
export function cnpjIndexKeys(registrationNumber: string): string[] {
  if (!registrationNumber) return [];
  return registrationNumber.length > 8 && registrationNumber.length <= 14 ? [registrationNumber, registrationNumber.slice(0, 8)] : [registrationNumber];
}

/** The index keys to look a CNPJ up under; accepts punctuation and lower-case letters (alphanumeric CNPJ). */
export function cnpjQueryKeys(cnpj: string): string[] {
  return cnpjIndexKeys(cnpj.replace(PUNCTUATION, "").toUpperCase());
}

/** Index key → ids (lower-cased, each once) of the organisations found under it. */
export function buildCnpjIndex(organisations: readonly Organisation[]): Map<string, string[]> {
  const index = new Map<string, string[]>();
  for (const org of organisations) {
    const id = org.id.toLowerCase();
    for (const key of cnpjIndexKeys(org.registrationNumber)) {
      const ids = index.get(key);
      if (!ids) index.set(key, [id]);
      else if (!ids.includes(id)) ids.push(id);
    }
  }
  return index;
}

/** Distinct ids found under any of `keys`, in first-seen order. */
export function unionIds(lists: Iterable<readonly string[] | undefined>): string[] {
  const ids = new Set<string>();
  for (const list of lists) for (const id of list ?? []) ids.add(id);
  return [...ids];
}

/** Calls every listener; one that throws does not keep the others from hearing about the change. */
export function notifyListeners(listeners: Iterable<(meta: SnapshotMeta) => void>, meta: SnapshotMeta, onError: (err: unknown) => void): void {
  for (const listener of [...listeners]) {
    try {
      listener(meta);
    } catch (err) {
      onError(err);
    }
  }
}

/** Cache entries and locks expire: a TTL must be a positive number of milliseconds. */
export function requireTtl(ttlMs: number): void {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError(`ttlMs must be a positive number of milliseconds, got ${ttlMs}`);
}
