import { LRUCache } from "lru-cache";
import type { Logger } from "../log/logger.js";
import { exec } from "../redis/client.js";
import { openRedisConnection } from "../redis/connection.js";
import { standaloneTarget, type RedisTarget } from "../redis/target.js";
import { CONFIRM_SCRIPT, FLIP_SCRIPT, parseChange, parseSnapshotMeta, redisKeys, type SnapshotChange } from "./redis-keys.js";
import { writeSnapshot } from "./redis-publish.js";
import { cnpjQueryKeys, notifyListeners, requireTtl, unionIds } from "./store-contract.js";
import type { DirectoryStore, Organisation, SnapshotMeta } from "./types.js";

export interface RedisStoreOptions {
  /** One standalone Redis: a `redis://` or `rediss://` URL; its password never appears in errors or logs. */
  readonly url?: string;
  /** Any topology (standalone, Sentinel, Cluster), as the `redis` configuration section describes it; instead of `url`. */
  readonly redis?: RedisTarget;
  /** Prefix of every key and of the pub/sub channel (replicas sharing a snapshot share a prefix). */
  readonly keyPrefix: string;
  /** How long start-up may wait for Redis before rejecting (default 5 s). */
  readonly connectTimeoutMs?: number;
  /** How long one command may wait for its reply (default `redis.commandTimeoutMs`, else 1 s); bounds a lookup while Redis hangs. */
  readonly commandTimeoutMs?: number;
  /** Entries of the in-process lookup cache in front of Redis (default 10 000). */
  readonly localCacheSize?: number;
  /** `CLIENT SETNAME` of the two connections, for `CLIENT LIST` (default `ofb-edge-directory`, `…-changes`). */
  readonly clientName?: string;
  /** Clock for publish timings in logs (default `Date.now`); Redis expires keys by its own clock. */
  readonly now?: () => number;
  readonly logger?: Logger;
}

/** How long the previous snapshot stays readable after a publish, for lookups that already resolved it. */
const RETIRE_AFTER_MS = 60_000;

type Cached = { readonly org: Organisation | null } | { readonly orgs: readonly Organisation[] };

/**
 * The {@link DirectoryStore} shared by every replica. Lookups go through a small in-process LRU
 * keyed by snapshot version (negative answers too), so steady-state lookups do not touch the network; a second
 * connection subscribes to `changed`, and any replica's publish replaces this replica's view and drops the LRU.
 * Every change carries a sequence number from Redis, so a reply or message that arrives late never replaces a
 * newer snapshot. While Redis is down, cached lookups keep answering and misses reject (the caller fails
 * closed); the store reconnects by itself and re-reads `current` for what it missed.
 *
 * Works alike on standalone, Sentinel and Cluster: everything a publish or a confirmation touches together
 * shares one hash tag (`redis-keys.ts`).
 *
 * Rejects with an error naming the target (masked) when Redis cannot be reached within `connectTimeoutMs`.
 */
export async function createRedisStore(options: RedisStoreOptions): Promise<DirectoryStore> {
  const connectTimeoutMs = positiveInteger(options.connectTimeoutMs, 5_000, "connectTimeoutMs");
  const target = storeTarget(options, connectTimeoutMs);
  const commandTimeoutMs = positiveInteger(options.commandTimeoutMs, target.commandTimeoutMs ?? 1_000, "commandTimeoutMs");
  const localCacheSize = positiveInteger(options.localCacheSize, 10_000, "localCacheSize");
  const keys = redisKeys(options.keyPrefix);
  const clientName = options.clientName ?? "ofb-edge-directory";
  if (!/^[\w.:-]{1,64}$/.test(clientName)) throw new TypeError("clientName must be 1-64 letters, digits, '_', '.', ':' or '-'");
  const { logger } = options;
  const now = options.now ?? Date.now;

  const redis = await openRedisConnection(target, {
    user: "directory store",
    name: clientName,
    connectTimeoutMs,
    commandTimeoutMs,
    subscriber: true,
    whileDown: "lookups answer from the in-process cache",
    logger,
  });
  const { client, where } = redis;
  let known: SnapshotChange | null = null;
  const local = new LRUCache<string, Cached>({ max: localCacheSize });
  const inflight = new Map<string, Promise<Cached>>();
  const listeners = new Set<(meta: SnapshotMeta) => void>();

  /** Makes `change` this replica's view unless it is older than what is known (`force`: after a reconnect). */
  function adopt(change: SnapshotChange, force: boolean): void {
    const prev = known;
    if (prev && !force && change.seq < prev.seq) return;
    known = change;
    if (prev?.meta.version === change.meta.version && prev.meta.fetchedAt === change.meta.fetchedAt) return;
    if (prev?.meta.version !== change.meta.version) local.clear();
    notifyListeners(listeners, change.meta, (err) => logger?.error({ err }, "directory store change listener failed"));
  }

  /** Reads `current` and `seq` and adopts them; `force` after a reconnect, when Redis may have restarted. */
  async function readCurrent(force: boolean): Promise<SnapshotMeta | null> {
    const [raw, seq] = await client.mget(keys.current, keys.seq);
    if (raw === null) {
      // Redis lost its data (restarted without persistence): keep serving the last known snapshot (D5) until
      // one is published again, and accept that publish although Redis's counter started over.
      if (force && known) known = { meta: known.meta, seq: 0 };
      return null;
    }
    const meta = parseSnapshotMeta(raw);
    if (!meta) throw new Error(`${keys.current} in Redis is not snapshot metadata`);
    adopt({ meta, seq: Number(seq ?? 0) }, force);
    return meta;
  }

  try {
    await redis.subscribe(keys.changed, (message) => {
      const change = parseChange(message);
      if (!change) return logger?.warn({ channel: keys.changed }, "directory store: ignored a malformed change message");
      // After a failover the subscriber may be back before the command connection: a new snapshot adopted now
      // would empty the in-process cache while nothing can be read, failing every lookup closed. The re-read
      // that follows the command connection's return adopts it instead; until then the last one keeps serving.
      if (client.status === "ready") adopt(change, false);
    });
    await readCurrent(true);
  } catch (err) {
    await redis.close();
    throw new Error(`cannot start the directory store on Redis at ${where}: ${(err as Error).message}`, { cause: err });
  }
  // Messages published while a connection was down are lost: once both are back, re-read `current`.
  redis.onRestored(() => readCurrent(true).then(() => undefined));

  /** Reads through the in-process cache; concurrent misses for one key share one round trip. */
  async function lookup(kind: string, query: string, load: (meta: SnapshotMeta) => Promise<Cached>): Promise<Cached | null> {
    const meta = known?.meta;
    if (!meta) return null;
    const key = `${meta.version}\u0000${kind}\u0000${query}`;
    const hit = local.get(key);
    if (hit) return hit;
    let pending = inflight.get(key);
    if (!pending) {
      pending = load(meta).finally(() => inflight.delete(key));
      inflight.set(key, pending);
    }
    try {
      const value = await pending;
      if (known?.meta.version === meta.version) local.set(key, value);
      return value;
    } catch (err) {
      throw new Error(`directory store lookup failed: ${(err as Error).message}`, { cause: err });
    }
  }

  /** HMGET from a snapshot's hash; fails (rather than answering "unknown") when that snapshot left Redis. */
  async function readHash(meta: SnapshotMeta, hash: string, fields: readonly string[]): Promise<(string | null)[]> {
    const [values, exists] = await exec(client.pipeline().hmget(hash, ...fields).exists(keys.orgs(meta.version)));
    if (exists === 0 && meta.organisations > 0) {
      void readCurrent(true).catch(() => undefined);
      throw new Error(`snapshot ${meta.version} is no longer in Redis`);
    }
    return values as (string | null)[];
  }

  async function readOrganisations(meta: SnapshotMeta, ids: readonly string[]): Promise<Organisation[]> {
    if (ids.length === 0) return [];
    const values = await readHash(meta, keys.orgs(meta.version), ids);
    return values.flatMap((json) => (json === null ? [] : [JSON.parse(json) as Organisation]));
  }

  return {
    async publish(snapshot) {
      const started = now();
      const meta = parseSnapshotMeta(snapshot.meta);
      if (!meta) throw new TypeError("snapshot.meta is not valid snapshot metadata");
      const live = await readCurrent(false);
      if (live?.version === meta.version) throw new Error(`snapshot ${meta.version} is already current`);
      const expected = await writeSnapshot(client, keys, snapshot);
      const metaJson = JSON.stringify(meta);
      const flipKeys = [keys.current, keys.seq, keys.orgs(meta.version), keys.cnpj(meta.version)];
      const seq = await client.eval(FLIP_SCRIPT, flipKeys.length, ...flipKeys, metaJson, expected, keys.snapshotPrefix, RETIRE_AFTER_MS, keys.changed, meta.version);
      adopt({ meta, seq: Number(seq) }, false);
      logger?.debug({ version: meta.version, organisations: expected, ms: now() - started }, "directory store: snapshot published");
    },

    async confirm(version, fetchedAt) {
      if (!Number.isFinite(fetchedAt)) throw new TypeError("fetchedAt must be a number of ms since the epoch");
      // Compare-and-set; retried only when another replica changed `current` in between.
      for (let attempt = 0; attempt < 3; attempt++) {
        const raw = await client.get(keys.current);
        const meta = raw === null ? null : parseSnapshotMeta(raw);
        if (raw === null || meta?.version !== version) return;
        const next = Object.freeze({ ...meta, fetchedAt });
        const seq = Number(await client.eval(CONFIRM_SCRIPT, 2, keys.current, keys.seq, raw, JSON.stringify(next), keys.changed));
        if (seq > 0) return adopt({ meta: next, seq }, false);
      }
    },

    current: () => known?.meta ?? null,
    refreshCurrent: () => readCurrent(false),

    async organisation(id) {
      const query = id.toLowerCase();
      const found = await lookup("id", query, async (meta) => ({ org: (await readOrganisations(meta, [query]))[0] ?? null }));
      return found && "org" in found ? found.org : null;
    },

    async organisationsByCnpj(cnpj) {
      const indexKeys = cnpjQueryKeys(cnpj);
      if (indexKeys.length === 0) return [];
      const found = await lookup("cnpj", indexKeys[0]!, async (meta) => {
        const lists = await readHash(meta, keys.cnpj(meta.version), indexKeys);
        return { orgs: await readOrganisations(meta, unionIds(lists.map((json) => (json === null ? undefined : (JSON.parse(json) as string[]))))) };
      });
      return found && "orgs" in found ? found.orgs : [];
    },

    cacheGet: (key) => client.get(keys.cache(key)),

    async cacheSet(key, value, ttlMs) {
      requireTtl(ttlMs);
      await client.set(keys.cache(key), value, "PX", Math.ceil(ttlMs));
    },

    async tryLock(name, ttlMs) {
      requireTtl(ttlMs);
      return redis.lock(keys.lock(name), ttlMs);
    },

    onChange(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },

    async close() {
      listeners.clear();
      await redis.close();
    },
  };
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

/** The store's Redis: `redis` (any topology) or `url` (one standalone Redis), exactly one of them. */
function storeTarget(options: RedisStoreOptions, connectTimeoutMs: number): RedisTarget {
  if ((options.url === undefined) === (options.redis === undefined)) throw new TypeError("give exactly one of url (one standalone Redis) and redis (any topology)");
  return options.redis ?? standaloneTarget(options.url!, connectTimeoutMs);
}
