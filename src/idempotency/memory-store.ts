import { randomUUID } from "node:crypto";
import type { ClaimOutcome, IdempotencyStore, StoredResponse } from "./store.js";

interface Entry {
  readonly fingerprint: string;
  /** Set while in flight. */
  owner: string | undefined;
  response: StoredResponse | undefined;
  expiresAt: number;
}

export interface MemoryIdempotencyStoreOptions {
  /** Keys kept at most; the oldest is dropped first. */
  readonly maxEntries: number;
  readonly now?: () => number;
  /** Called when a key is dropped to make room (metrics). */
  readonly onEvict?: () => void;
}

/**
 * The {@link IdempotencyStore} in this process's memory: one process, or the cluster primary that the workers reach
 * over IPC (cluster-store.ts). A Map in insertion order, so the oldest entry is the first; expired entries are
 * dropped when met and by a sweep every minute.
 */
export function createMemoryIdempotencyStore(o: MemoryIdempotencyStoreOptions): IdempotencyStore & { size(): number } {
  if (!Number.isInteger(o.maxEntries) || o.maxEntries < 1) throw new TypeError("maxEntries must be a positive integer");
  const now = o.now ?? Date.now;
  const entries = new Map<string, Entry>();
  const id = (organisation: string, key: string) => `${organisation}\n${key}`;
  const live = (k: string): Entry | undefined => {
    const e = entries.get(k);
    if (e && e.expiresAt <= now()) {
      entries.delete(k);
      return undefined;
    }
    return e;
  };
  const sweep = setInterval(() => {
    const t = now();
    for (const [k, e] of entries) if (e.expiresAt <= t) entries.delete(k);
  }, 60_000);
  sweep.unref();

  return {
    async claim(organisation, key, fingerprint, claimTtlMs): Promise<ClaimOutcome> {
      const k = id(organisation, key);
      const e = live(k);
      if (!e) {
        while (entries.size >= o.maxEntries) {
          entries.delete(entries.keys().next().value!);
          o.onEvict?.();
        }
        const token = randomUUID();
        entries.set(k, { fingerprint, owner: token, response: undefined, expiresAt: now() + claimTtlMs });
        return { kind: "claimed", token };
      }
      if (e.fingerprint !== fingerprint) return { kind: "conflict" };
      return e.response ? { kind: "replay", response: e.response } : { kind: "in-flight" };
    },
    async complete(organisation, key, token, response, windowMs) {
      const k = id(organisation, key);
      const e = live(k);
      if (!e || e.owner !== token) return false;
      e.owner = undefined;
      e.response = response;
      e.expiresAt = now() + windowMs;
      return true;
    },
    async release(organisation, key, token) {
      const k = id(organisation, key);
      if (live(k)?.owner === token) entries.delete(k);
    },
    reachable: () => true,
    size: () => entries.size,
    async close() {
      clearInterval(sweep);
      entries.clear();
    },
  };
}
