import { redisTargetFor, type RedisConfig } from "../redis/config.js";
import type { RevocationConfig } from "./config.js";
import { createRedisRevocationStore } from "./redis-store.js";
import { REVOCATION_OFF, createRevocationService, type RevocationDeps, type RevocationService } from "./service.js";
import { createMemoryRevocationStore } from "./store.js";

/**
 * The configured revocation service with the store it owns (closed with it): memory for a single instance,
 * Redis to share downloads between replicas (the top-level `redis` section, `redis`, when there is one, else
 * `revocation.store.url`). Rejects when Redis cannot be reached within its connect timeout, or when an option is
 * refused (a `crlFiles` path that does not exist).
 */
export async function openRevocationService(config: RevocationConfig, deps: Omit<RevocationDeps, "store">, redis?: RedisConfig): Promise<RevocationService> {
  if (config.mode === "off") return REVOCATION_OFF;
  const s = config.store;
  let store;
  if (s.type === "memory") store = createMemoryRevocationStore({ now: deps.now });
  else store = await createRedisRevocationStore({ redis: redisTargetFor(redis, s, "revocation.store"), keyPrefix: s.keyPrefix, connectTimeoutMs: s.connectTimeoutMs, logger: deps.logger });
  let service: RevocationService;
  try {
    service = createRevocationService(config, { ...deps, store });
  } catch (err) {
    // A bad option (a crlFiles path that does not exist) must not leave the store's connections open.
    await store.close();
    throw err;
  }
  return {
    ...service,
    async close() {
      await service.close();
      await store.close();
    },
  };
}
