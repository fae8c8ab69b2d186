import type { DirectoryConfig } from "../config/schema.js";
import type { Logger } from "../log/logger.js";
import { redisTargetFor, type RedisConfig } from "../redis/config.js";
import { createMemoryStore } from "./memory-store.js";
import { createRedisStore } from "./redis-store.js";
import type { DirectoryStore } from "./types.js";

/**
 * The configured store: memory (single instance) or Redis (shared by every replica), reached through the
 * top-level `redis` section when there is one, else through `directory.store.url`.
 */
export async function openDirectoryStore(config: DirectoryConfig, options: { logger: Logger; now: () => number; redis?: RedisConfig | undefined }): Promise<DirectoryStore> {
  const store = config.store;
  if (store.type === "memory") return createMemoryStore({ now: options.now });
  const redis = redisTargetFor(options.redis, store, "directory.store");
  return createRedisStore({ redis, keyPrefix: store.keyPrefix, connectTimeoutMs: store.connectTimeoutMs, now: options.now, logger: options.logger });
}
