import type { StoreLock } from "../directory/types.js";

/** A downloaded CRL as shared between replicas: the DER itself (each replica verifies it) and where it came from. */
export interface StoredCrl {
  readonly der: Uint8Array;
  readonly url: string;
  /** When it was downloaded (ms since the epoch, the downloading replica's clock). */
  readonly fetchedAt: number;
  /** Validators for the next conditional request to `url`. */
  readonly etag: string | null;
  readonly lastModified: string | null;
}

/**
 * Where CRLs are shared, keyed by the AC's SHA-256 (lowercase hex): Redis for replicas (one downloads, every
 * one loads), memory for a single instance. Both pass the same contract tests.
 */
export interface RevocationStore {
  get(ac: string): Promise<StoredCrl | null>;
  /** Stores the AC's CRL and tells every replica (listeners of this one included). */
  put(ac: string, crl: StoredCrl): Promise<void>;
  /** The per-AC download lock, with expiry; null when another holder has it. */
  tryLock(ac: string, ttlMs: number): Promise<StoreLock | null>;
  /** `ac` whose CRL changed, or null when anything may have changed (after a lost connection). */
  onChange(listener: (ac: string | null) => void): () => void;
  close(): Promise<void>;
}

/** The {@link RevocationStore} of a single instance; several services given the same one share downloads. */
export function createMemoryRevocationStore(options: { readonly now?: () => number } = {}): RevocationStore {
  const now = options.now ?? Date.now;
  const crls = new Map<string, StoredCrl>();
  const held = new Map<string, { readonly token: symbol; readonly until: number }>();
  const listeners = new Set<(ac: string | null) => void>();
  return {
    get: async (ac) => crls.get(ac) ?? null,
    async put(ac, crl) {
      crls.set(ac, crl);
      for (const listener of [...listeners]) listener(ac);
    },
    async tryLock(ac, ttlMs) {
      if ((held.get(ac)?.until ?? -Infinity) > now()) return null;
      const token = Symbol(ac);
      held.set(ac, { token, until: now() + ttlMs });
      return { release: async () => void (held.get(ac)?.token === token && held.delete(ac)) };
    },
    onChange(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    async close() {
      listeners.clear();
    },
  };
}
