import { RateLimiterClusterMaster } from "rate-limiter-flexible";
import type { Logger } from "../log/logger.js";
import { redisTargetFor, type RedisConfig } from "../redis/config.js";
import { clusterLimiterBackend, memoryLimiterBackend, redisLimiterBackend, type LimiterBackend } from "./backend.js";
import type { LimitsConfig } from "./config.js";

/**
 * Where the `limits` section keeps its counters: Redis (any topology), or memory — in a cluster worker the primary's
 * ({@link limitsInPrimary}), so that the workers of one host count together.
 */
export async function openLimiterBackend(config: LimitsConfig, o: { readonly redis: RedisConfig | undefined; readonly inClusterWorker: boolean; readonly logger: Logger }): Promise<LimiterBackend> {
  const { store } = config;
  if (store.type === "memory") return o.inClusterWorker ? clusterLimiterBackend() : memoryLimiterBackend();
  return redisLimiterBackend({ redis: redisTargetFor(o.redis, store, "limits.store"), keyPrefix: store.keyPrefix, connectTimeoutMs: store.connectTimeoutMs, logger: o.logger });
}

/** In the cluster primary (`workers` > 1) with the memory store: rate-limiter-flexible's master, which holds the workers' counters. */
export function limitsInPrimary(config: LimitsConfig | undefined): void {
  if (config?.store.type === "memory") new RateLimiterClusterMaster();
}
