import type { DirectoryConfig } from "../config/schema.js";
import type { Logger } from "../log/logger.js";
import { createMemoryStore } from "./memory-store.js";
import { createRedisStore } from "./redis-store.js";
import type { DirectoryStore } from "./types.js";

/** The configured store: memory (single instance) or Redis (shared by every replica). */
export async function openDirectoryStore(config: DirectoryConfig, options: { logger: Logger; now: () => number }): Promise<DirectoryStore> {
  const store = config.store;
  if (store.type === "memory") return createMemoryStore({ now: options.now });
  if (!store.url) throw new Error("directory.store.url is not set and REDIS_URL is empty: the Redis store needs an address");
  return createRedisStore({ url: store.url, keyPrefix: store.keyPrefix, connectTimeoutMs: store.connectTimeoutMs, now: options.now, logger: options.logger });
}
