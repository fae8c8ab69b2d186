import type { Logger } from "../log/logger.js";
import { buildCnpjIndex, cnpjQueryKeys, notifyListeners, requireTtl, unionIds } from "./store-contract.js";
import type { DirectoryStore, Organisation, SnapshotMeta, StoreLock } from "./types.js";

export interface MemoryStoreOptions {
  /** Clock for cache and lock expiry, ms since the epoch (default `Date.now`). */
  readonly now?: () => number;
  /** Where a throwing change listener is reported (default: nowhere). */
  readonly logger?: Logger;
}

interface Published {
  readonly meta: SnapshotMeta;
  readonly byId: ReadonlyMap<string, Organisation>;
  readonly byCnpj: ReadonlyMap<string, readonly string[]>;
}

/** The shared cache is swept of expired entries when it grows past this many. */
const SWEEP_AT = 10_000;

/**
 * The {@link DirectoryStore} for a single instance (the embedded default): the snapshot, cache and locks live
 * in this process. A publish builds the new indexes first and swaps them in with one assignment, so a reader
 * sees the old snapshot or the new one, never a mix.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): DirectoryStore {
  const now = options.now ?? Date.now;
  let published: Published | null = null;
  const cache = new Map<string, { readonly value: string; readonly expiresAt: number }>();
  const locks = new Map<string, { readonly token: symbol; readonly expiresAt: number }>();
  const listeners = new Set<(meta: SnapshotMeta) => void>();

  function changed(meta: SnapshotMeta) {
    notifyListeners(listeners, meta, (err) => options.logger?.error({ err }, "directory store change listener failed"));
  }

  return {
    async publish(snapshot) {
      if (published?.meta.version === snapshot.meta.version) throw new Error(`snapshot ${snapshot.meta.version} is already current`);
      const byId = new Map<string, Organisation>();
      for (const org of snapshot.organisations) byId.set(org.id.toLowerCase(), org);
      const meta = Object.freeze({ ...snapshot.meta });
      published = { meta, byId, byCnpj: buildCnpjIndex(snapshot.organisations) };
      changed(meta);
    },

    async confirm(version, fetchedAt) {
      if (published?.meta.version !== version) return;
      const meta = Object.freeze({ ...published.meta, fetchedAt });
      published = { ...published, meta };
      changed(meta);
    },

    current: () => published?.meta ?? null,
    refreshCurrent: async () => published?.meta ?? null,

    async organisation(id) {
      return published?.byId.get(id.toLowerCase()) ?? null;
    },

    async organisationsByCnpj(cnpj) {
      const snapshot = published;
      if (!snapshot) return [];
      const ids = unionIds(cnpjQueryKeys(cnpj).map((key) => snapshot.byCnpj.get(key)));
      return ids.flatMap((id) => snapshot.byId.get(id) ?? []);
    },

    async cacheGet(key) {
      const entry = cache.get(key);
      if (!entry) return null;
      if (entry.expiresAt > now()) return entry.value;
      cache.delete(key);
      return null;
    },

    async cacheSet(key, value, ttlMs) {
      requireTtl(ttlMs);
      if (cache.size >= SWEEP_AT) {
        const t = now();
        for (const [k, e] of cache) if (e.expiresAt <= t) cache.delete(k);
      }
      cache.set(key, { value, expiresAt: now() + ttlMs });
    },

    async tryLock(name, ttlMs): Promise<StoreLock | null> {
      requireTtl(ttlMs);
      const held = locks.get(name);
      if (held && held.expiresAt > now()) return null;
      const token = Symbol(name);
      locks.set(name, { token, expiresAt: now() + ttlMs });
      return {
        // Only the holder's own token releases: after expiry someone else may hold the lock.
        release: async () => {
          if (locks.get(name)?.token === token) locks.delete(name);
        },
      };
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
