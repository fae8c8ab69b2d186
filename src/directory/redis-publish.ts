import type { ChainableCommander } from "ioredis";
import { exec, type RedisClient } from "../redis/client.js";
import type { redisKeys } from "./redis-keys.js";
import { buildCnpjIndex } from "./store-contract.js";
import type { Snapshot } from "./types.js";

/** Hash fields written per transaction. */
const CHUNK = 500;
/** Transactions in flight at once: enough to keep the connection busy, few enough that none waits long. */
const WINDOW = 8;
/**
 * TTL of a snapshot's keys until the flip makes them permanent. Every chunk renews it, so it only has to
 * outlast the gap between two chunks and the flip; a publish that dies leaves keys that expire on their own.
 */
export const PENDING_TTL_MS = 10 * 60_000;

/**
 * Phase one of a publish, invisible to readers (nothing names the new version yet): writes the snapshot's
 * `orgs` and `cnpj` hashes in pipelined transactions, each of which sets the TTL together with its fields, so
 * no key of an unfinished publish ever exists without one. Returns the number of distinct organisations,
 * which the flip checks against the hash before making it current.
 */
export async function writeSnapshot(client: RedisClient, keys: ReturnType<typeof redisKeys>, snapshot: Snapshot): Promise<number> {
  const version = snapshot.meta.version;
  const orgs = new Map<string, string>();
  for (const org of snapshot.organisations) orgs.set(org.id.toLowerCase(), JSON.stringify(org));
  const index = [...buildCnpjIndex(snapshot.organisations)].map(([key, ids]) => [key, JSON.stringify(ids)] as const);

  const batches: (() => ChainableCommander)[] = [
    // Leftovers of an earlier attempt at the same version would break the completeness check.
    () => client.multi().del(keys.orgs(version), keys.cnpj(version)),
    ...chunks([...orgs], CHUNK).map((chunk) => () => client.multi().hset(keys.orgs(version), Object.fromEntries(chunk)).pexpire(keys.orgs(version), PENDING_TTL_MS)),
    ...chunks(index, CHUNK).map((chunk) => () => client.multi().hset(keys.cnpj(version), Object.fromEntries(chunk)).pexpire(keys.cnpj(version), PENDING_TTL_MS)),
  ];
  let next = 0;
  let failed = false;
  async function worker(): Promise<void> {
    while (!failed && next < batches.length) {
      const batch = batches[next++]!;
      try {
        await exec(batch());
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(WINDOW, batches.length) }, worker));
  return orgs.size;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
