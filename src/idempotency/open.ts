import type { Logger } from "../log/logger.js";
import { redisTargetFor, type RedisConfig } from "../redis/config.js";
import { createClusterIdempotencyStore, serveIdempotencyToWorkers } from "./cluster-store.js";
import type { IdempotencyConfig } from "./config.js";
import { createMemoryIdempotencyStore } from "./memory-store.js";
import type { IdempotencyMetrics } from "./metrics.js";
import { createRedisIdempotencyStore } from "./redis-store.js";
import type { IdempotencyStore } from "./store.js";

/** How long a worker waits for the cluster primary's memory store. */
const CLUSTER_TIMEOUT_MS = 2_000;

/**
 * The store the `idempotency` section names: Redis (any topology, through the `redis` section or the store's own
 * url), or memory — in a cluster worker the primary's, reached over IPC ({@link idempotencyInPrimary}).
 */
export async function openIdempotencyStore(
  config: IdempotencyConfig,
  o: { readonly redis: RedisConfig | undefined; readonly inClusterWorker: boolean; readonly metrics: IdempotencyMetrics; readonly logger: Logger },
): Promise<IdempotencyStore> {
  const { store } = config;
  if (store.type === "memory") {
    if (o.inClusterWorker) return createClusterIdempotencyStore({ timeoutMs: CLUSTER_TIMEOUT_MS });
    return createMemoryIdempotencyStore({ maxEntries: store.maxEntries, onEvict: () => o.metrics.evictions.inc() });
  }
  const replicaAcks = store.replicaAcks === "auto" ? (o.redis?.mode === "sentinel" ? 1 : 0) : store.replicaAcks;
  return createRedisIdempotencyStore({
    redis: redisTargetFor(o.redis, store, "idempotency.store"),
    keyPrefix: store.keyPrefix,
    connectTimeoutMs: store.connectTimeoutMs,
    replicaAcks,
    logger: o.logger,
    onUnreplicated: () => o.metrics.unreplicated.inc(),
  });
}

/**
 * In the cluster primary (`workers` > 1) with the memory store: the one store every worker uses. Returns a function
 * that stops serving it, or null when the store is not the memory one.
 */
export function idempotencyInPrimary(config: IdempotencyConfig | undefined): (() => void) | null {
  if (config?.store.type !== "memory") return null;
  const store = createMemoryIdempotencyStore({ maxEntries: config.store.maxEntries });
  const stop = serveIdempotencyToWorkers(store);
  return () => {
    stop();
    void store.close();
  };
}
