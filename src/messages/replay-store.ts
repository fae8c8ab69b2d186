import { createHash } from "node:crypto";
import type { Logger } from "../log/logger.js";
import { openRedisConnection } from "../redis/connection.js";
import { keyspace } from "../redis/keys.js";
import type { RedisTarget } from "../redis/target.js";

/**
 * Where the `jti`s of accepted signed messages are remembered (OFB security profile: a `jti` "must be unique … within
 * a time frame of 86,400 seconds (24h), and cannot be reused"). Every implementation answers alike: the first
 * `firstUse` of a key within `ttlMs` is true, every later one false, and a store that cannot tell throws (the stage
 * refuses the request: a replay check that cannot be made fails closed).
 */
export interface ReplayStore {
  /** Marks `key` used for `ttlMs`: true when it was not used yet, false when it was (a replay). */
  firstUse(key: string, ttlMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/** The store could not answer (Redis unreachable or too slow, the memory store full, the primary gone). */
export class ReplayStoreUnavailableError extends Error {
  override readonly name = "ReplayStoreUnavailableError";
}

/** Keys one memory store holds at most; more unexpired ones make it refuse (never forget one early). */
const DEFAULT_MAX_ENTRIES = 1_000_000;

/**
 * One process's store: a map in insertion order with each key's expiry. Keys are usually added with one TTL, so the
 * oldest expire first and are swept from the front on each call; when the map is full of unexpired keys it throws
 * rather than evict one (an evicted `jti` could be replayed).
 */
export function createMemoryReplayStore(o: { readonly now?: () => number; readonly maxEntries?: number } = {}): ReplayStore {
  const now = o.now ?? Date.now;
  const max = o.maxEntries ?? DEFAULT_MAX_ENTRIES;
  if (!Number.isSafeInteger(max) || max < 1) throw new TypeError(`replay store maxEntries must be a positive integer, got ${String(max)}`);
  const expiries = new Map<string, number>();
  return {
    async firstUse(key, ttlMs) {
      const t = now();
      for (const [k, expires] of expiries) {
        if (expires > t) break;
        expiries.delete(k);
      }
      const known = expiries.get(key);
      if (known !== undefined && known > t) return false;
      if (expiries.size >= max) throw new ReplayStoreUnavailableError(`the in-memory jti store holds ${max} unexpired entries`);
      // Re-inserted at the end, so the map stays in expiry order for the sweep.
      expiries.delete(key);
      expiries.set(key, t + ttlMs);
      return true;
    },
    async close() {
      expiries.clear();
    },
  };
}

/** Default bound on one Redis command of the replay store: a signed request waits for it. */
const COMMAND_TIMEOUT_MS = 1_000;

/**
 * The store every replica shares: `SET <prefix>jti:<sha256(key)> 1 PX <ttl> NX` through the Redis room (one key per
 * use, so any topology; the key is hashed, so a `jti` of any length or content makes a key of fixed size and no
 * hash tag). A command that fails or times out throws: the request is refused, never let through unchecked.
 */
export async function openRedisReplayStore(o: { readonly redis: RedisTarget; readonly keyPrefix: string; readonly connectTimeoutMs: number; readonly logger?: Logger }): Promise<ReplayStore> {
  const space = keyspace(o.keyPrefix);
  const redis = await openRedisConnection(o.redis, {
    user: "jti replay store",
    name: "ofb-edge-jti",
    connectTimeoutMs: o.connectTimeoutMs,
    commandTimeoutMs: o.redis.commandTimeoutMs ?? COMMAND_TIMEOUT_MS,
    subscriber: false,
    whileDown: "signed requests are refused with 503",
    ...(o.logger && { logger: o.logger }),
  });
  return {
    async firstUse(key, ttlMs) {
      const name = space.key(`jti:${createHash("sha256").update(key).digest("base64url")}`);
      try {
        return (await redis.client.set(name, "1", "PX", Math.ceil(ttlMs), "NX")) === "OK";
      } catch (err) {
        throw new ReplayStoreUnavailableError(`the jti replay store (Redis at ${redis.where}) did not answer: ${(err as Error).message}`, { cause: err });
      }
    },
    close: () => redis.close(),
  };
}
