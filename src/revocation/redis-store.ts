import { Redis } from "ioredis";
import { connectWithin, directoryRedisOptions, exec, logErrors, maskRedisUrl, quit, takeLock, watchReconnects } from "../directory/redis-client.js";
import type { Logger } from "../log/logger.js";
import type { RevocationStore, StoredCrl } from "./store.js";

export interface RedisRevocationStoreOptions {
  readonly url: string;
  /** Prefix of every key and of the channel; it may be the directory store's (the names do not collide). */
  readonly keyPrefix: string;
  readonly connectTimeoutMs?: number;
  readonly logger?: Logger;
}

/**
 * A CRL of tens of MB travels in one reply: the command bound is wider than the directory store's 1 s. It only
 * bounds a download's hand-over; `check()` never waits on Redis.
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
 * the AC whose CRL was stored.
 */
function keys(prefix: string) {
  return { crl: (ac: string) => `${prefix}crl:${ac}`, lock: (ac: string) => `${prefix}lock:crl:${ac}`, changed: `${prefix}crl-changed` };
}

const AC = /^[0-9a-f]{64}$/;

/** The {@link RevocationStore} every replica shares: one downloads an AC's CRL, all load it from here. */
export async function createRedisRevocationStore(options: RedisRevocationStoreOptions): Promise<RevocationStore> {
  const { url, logger } = options;
  if (!options.keyPrefix) throw new TypeError("keyPrefix must be a non-empty string");
  const k = keys(options.keyPrefix);
  const connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
  const client = logErrors(new Redis(url, directoryRedisOptions({ connectTimeoutMs, commandTimeoutMs: COMMAND_TIMEOUT_MS, name: "ofb-edge-revocation" })), logger);
  const subscriber = logErrors(client.duplicate({ connectionName: "ofb-edge-revocation-changes" }), logger);
  const listeners = new Set<(ac: string | null) => void>();
  const notify = (ac: string | null) => {
    for (const listener of [...listeners]) listener(ac);
  };

  const connected = await Promise.allSettled([connectWithin(client, url, connectTimeoutMs), connectWithin(subscriber, url, connectTimeoutMs)]);
  const failed = connected.find((r) => r.status === "rejected");
  if (failed) {
    client.disconnect();
    subscriber.disconnect();
    throw failed.reason;
  }
  subscriber.on("message", (channel: string, message: string) => {
    if (channel === k.changed && AC.test(message)) notify(message);
  });
  try {
    await subscriber.subscribe(k.changed);
  } catch (err) {
    client.disconnect();
    subscriber.disconnect();
    throw new Error(`cannot subscribe to CRL changes on Redis at ${maskRedisUrl(url)}: ${(err as Error).message}`, { cause: err });
  }
  // Messages published while a connection was down are lost: once both are back, every AC is re-read.
  const stopWatching = watchReconnects([client, subscriber], maskRedisUrl(url), async () => {
    await subscriber.ping();
    notify(null);
  }, logger);

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
    tryLock: (ac, ttlMs) => takeLock(client, k.lock(ac), ttlMs),
    onChange(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    async close() {
      stopWatching();
      listeners.clear();
      await Promise.all([quit(subscriber), quit(client)]);
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
