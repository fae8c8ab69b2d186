import { RateLimiterCluster, RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from "rate-limiter-flexible";
import type { Logger } from "../log/logger.js";
import { openRedisConnection } from "../redis/connection.js";
import { keyspace } from "../redis/keys.js";
import type { RedisTarget } from "../redis/target.js";

/**
 * Where the traffic counters live, as rate-limiter-flexible limiters: `limiter(name, points, seconds)` is one fixed
 * window of `seconds` allowing `points` requests per key, the same object for the same arguments (a worker's
 * cluster limiter registers a listener per instance, and the primary keeps one counter set per name).
 */
export interface LimiterBackend {
  limiter(name: string, points: number, seconds: number): RateLimiterAbstract;
  /** Whether the counters can be reached now (readiness). */
  reachable(): boolean;
  close(): Promise<void>;
}

/** Bound on one counter update: a request waits at most this long before limits.onStoreError decides. */
export const LIMIT_COMMAND_TIMEOUT_MS = 250;

function cached(make: (keyPrefix: string, points: number, seconds: number) => RateLimiterAbstract, prefix: string) {
  const made = new Map<string, RateLimiterAbstract>();
  return (name: string, points: number, seconds: number) => {
    // The limit is part of the name: the cluster primary keeps the options of the first limiter of a name.
    const keyPrefix = `${prefix}${name}:${points}/${seconds}s`;
    let l = made.get(keyPrefix);
    if (!l) made.set(keyPrefix, (l = make(keyPrefix, points, seconds)));
    return l;
  };
}

/** Counters in this process (one process: `workers` 1). */
export function memoryLimiterBackend(): LimiterBackend {
  return { limiter: cached((keyPrefix, points, duration) => new RateLimiterMemory({ keyPrefix, points, duration }), "limit:"), reachable: () => true, close: async () => undefined };
}

/**
 * Counters in the cluster primary's memory, shared by the workers over IPC (rate-limiter-flexible's cluster limiter;
 * the primary runs its master, see cluster.ts). The limiters stay for the life of the worker: each registers an IPC
 * listener it never removes.
 */
const workerLimiters = cached((keyPrefix, points, duration) => new RateLimiterCluster({ keyPrefix, points, duration, timeoutMs: LIMIT_COMMAND_TIMEOUT_MS }), "limit:");
export function clusterLimiterBackend(): LimiterBackend {
  return { limiter: workerLimiters, reachable: () => process.connected === true, close: async () => undefined };
}

/**
 * Counters in Redis, shared by every replica: one key per counter (`<keyPrefix>limit:<name>:<limit>:<family>:<id>`),
 * updated by rate-limiter-flexible's own single-key script, so they spread over a Redis Cluster's nodes.
 */
export async function redisLimiterBackend(o: { readonly redis: RedisTarget; readonly keyPrefix: string; readonly connectTimeoutMs: number; readonly logger?: Logger }): Promise<LimiterBackend> {
  const redis = await openRedisConnection(o.redis, {
    user: "traffic limits",
    name: "ofb-edge-limits",
    connectTimeoutMs: o.connectTimeoutMs,
    commandTimeoutMs: o.redis.commandTimeoutMs ?? LIMIT_COMMAND_TIMEOUT_MS,
    subscriber: false,
    whileDown: "requests are counted by limits.onStoreError (open: forwarded uncounted; closed: 503)",
    ...(o.logger && { logger: o.logger }),
  });
  // rate-limiter-flexible joins its prefix and the key with ':'.
  const prefix = keyspace(o.keyPrefix).key("");
  return {
    limiter: cached((keyPrefix, points, duration) => new RateLimiterRedis({ storeClient: redis.client, keyPrefix, points, duration, rejectIfRedisNotReady: true }), `${prefix}limit:`),
    reachable: () => redis.reachable(),
    close: () => redis.close(),
  };
}
