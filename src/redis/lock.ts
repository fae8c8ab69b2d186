import { randomUUID } from "node:crypto";
import type { RedisClient } from "./client.js";

/** A held lock; `release` is safe to call more than once and never releases someone else's lock. */
export interface RedisLock {
  release(): Promise<void>;
}

/** Deletes a lock only when it still holds the caller's token. KEYS: lock. ARGV: token. */
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * One holder at a time across replicas: `SET key token NX PX ttl` with a random token, released only by its holder
 * (a Lua compare-and-delete, so a lock that expired and was taken by another replica is not released by mistake).
 * Null when another replica holds it. One key, so it works alike on every topology; on a Sentinel failover a lock
 * whose `SET` had not reached the replica is lost with the old primary — it only ever guards work that is safe to
 * do twice (a Directory sync, a CRL download), never a one-time effect.
 */
export async function takeLock(client: RedisClient, key: string, ttlMs: number): Promise<RedisLock | null> {
  const token = randomUUID();
  if ((await client.set(key, token, "PX", Math.ceil(ttlMs), "NX")) !== "OK") return null;
  return {
    release: async () => {
      await client.eval(RELEASE_SCRIPT, 1, key, token);
    },
  };
}
