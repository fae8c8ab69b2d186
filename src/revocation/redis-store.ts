import type { Logger } from "../log/logger.js";
import { exec } from "../redis/client.js";
import { openRedisConnection } from "../redis/connection.js";
import { keyspace } from "../redis/keys.js";
import { standaloneTarget, type RedisTarget } from "../redis/target.js";
import type { RevocationStore, StoredCrl } from "./store.js";

export interface RedisRevocationStoreOptions {
  /** One standalone Redis; or `redis`, any topology as the `redis` configuration section describes it. */
  readonly url?: string;
  readonly redis?: RedisTarget;
  /** Prefix of every key and of the channel; it may be the directory store's (the names do not collide). */
  readonly keyPrefix: string;
  readonly connectTimeoutMs?: number;
  readonly logger?: Logger;
}

/**
 * A CRL of tens of MB travels in one reply: the command bound is wider than the directory store's 1 s (and never
 * narrower than this when `redis.commandTimeoutMs` is set). It only bounds a download's hand-over; `check()`
 * never waits on Redis.
 */
const COMMAND_TIMEOUT_MS = 10_000;
/**
 * Stored CRLs expire when no replica has refreshed them for this long (an AC no longer seen). Every refresh
 * renews it; by then any CRL is far past its nextUpdate and grace.
 */
const KEEP_MS = 7 * 86_400_000;

/**
 * The Redis layout, under one prefix: `crl:<ac>` a hash with `der` (the CRL as downloaded, binary) and `meta`
 * (JSON: url, fetchedAt, etag, lastModified); `lock:crl:<ac>` the download lock; channel `crl-changed` carries
 * the AC whose CRL was stored. Every transaction names one key (`crl:<ac>`, with a `PUBLISH`, which names
 * none), so on a Redis Cluster the CRLs spread over the nodes without a hash tag.
 */
function keys(prefix: string) {
  const space = keyspace(prefix);
  return { crl: (ac: string) => space.key(`crl:${ac}`), lock: (ac: string) => space.key(`lock:crl:${ac}`), changed: space.key("crl-changed") };
}

const AC = /^[0-9a-f]{64}$/;

/** The {@link RevocationStore} every replica shares: one downloads an AC's CRL, all load it from here. */
export async function createRedisRevocationStore(options: RedisRevocationStoreOptions): Promise<RevocationStore> {
  const { logger } = options;
  const k = keys(options.keyPrefix);
  const connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
  if ((options.url === undefined) === (options.redis === undefined)) throw new TypeError("give exactly one of url (one standalone Redis) and redis (any topology)");
  const target = options.redis ?? standaloneTarget(options.url!, connectTimeoutMs);
  const redis = await openRedisConnection(target, {
    user: "revocation store",
    name: "ofb-edge-revocation",
    connectTimeoutMs,
    commandTimeoutMs: Math.max(target.commandTimeoutMs ?? 0, COMMAND_TIMEOUT_MS),
    subscriber: true,
    whileDown: "each replica downloads its own CRLs",
    logger,
  });
  const { client } = redis;
  const listeners = new Set<(ac: string | null) => void>();
  const notify = (ac: string | null) => {
    for (const listener of [...listeners]) listener(ac);
  };
  try {
    await redis.subscribe(k.changed, (message) => AC.test(message) && notify(message));
  } catch (err) {
    await redis.close();
    throw new Error(`cannot subscribe to CRL changes on Redis at ${redis.where}: ${(err as Error).message}`, { cause: err });
  }
  // Messages published while a connection was down are lost: once both are back, every AC is re-read.
  redis.onRestored(async () => notify(null));

  return {
    async get(ac) {
      const [der, meta] = await client.hmgetBuffer(k.crl(ac), "der", "meta");
      if (!der || !meta) return null;
      return parseMeta(der, meta.toString("utf8"));
    },
    async put(ac, crl) {
      const meta = JSON.stringify({ url: crl.url, fetchedAt: crl.fetchedAt, etag: crl.etag, lastModified: crl.lastModified });
      const der = Buffer.from(crl.der.buffer, crl.der.byteOffset, crl.der.byteLength);
      await exec(client.multi().hset(k.crl(ac), "der", der, "meta", meta).pexpire(k.crl(ac), KEEP_MS).publish(k.changed, ac));
    },
    tryLock: (ac, ttlMs) => redis.lock(k.lock(ac), ttlMs),
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

/** A stored entry written by another replica: unknown in, typed out, or null (then it is downloaded again). */
function parseMeta(der: Buffer, json: string): StoredCrl | null {
  try {
    const m = JSON.parse(json) as Record<string, unknown>;
    const text = (v: unknown): v is string | null => v === null || typeof v === "string";
    if (typeof m.url !== "string" || typeof m.fetchedAt !== "number" || !text(m.etag) || !text(m.lastModified)) return null;
    return { der, url: m.url, fetchedAt: m.fetchedAt, etag: m.etag, lastModified: m.lastModified };
  } catch {
    return null;
  }
}
