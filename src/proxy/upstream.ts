import { Pool } from "undici";
import type { ProxyConfig, RouteConfig } from "../config/schema.js";

/** A backend origin with its keep-alive pool, and the base path requests are forwarded under. */
export interface Upstream {
  readonly origin: string;
  /** The origin's `host` (with its port), as undici sends it: computed once, counted in every request head. */
  readonly host: string;
  readonly basePath: string;
  readonly pool: Pool;
}

/**
 * One undici keep-alive pool per distinct origin, shared by the routes that use it. Timeouts are the
 * configuration's, never undici's defaults.
 */
export function createUpstreams(
  routes: readonly RouteConfig[],
  proxy: ProxyConfig,
): {
  byRoute: ReadonlyMap<string, Upstream>;
  /** Closes the pools once the requests in flight on them are done. */
  close: () => Promise<void>;
  /** Closes the pools now, aborting requests in flight (shutdown past its drain time-out). */
  destroy: () => Promise<void>;
} {
  const pools = new Map<string, Pool>();
  const byRoute = new Map<string, Upstream>();
  for (const route of routes) {
    const url = new URL(route.upstream);
    let pool = pools.get(url.origin);
    if (!pool) {
      pool = new Pool(url.origin, {
        connections: proxy.connectionsPerUpstream,
        connectTimeout: proxy.connectTimeoutMs,
        headersTimeout: proxy.headersTimeoutMs,
        bodyTimeout: proxy.bodyTimeoutMs,
        keepAliveTimeout: proxy.keepAliveTimeoutMs,
        pipelining: 1,
      });
      pools.set(url.origin, pool);
    }
    byRoute.set(route.name, { origin: url.origin, host: url.host, basePath: url.pathname.replace(/\/+$/, ""), pool });
  }
  return {
    byRoute,
    close: async () => {
      await Promise.all([...pools.values()].map((p) => p.close()));
    },
    destroy: async () => {
      await Promise.all([...pools.values()].map((p) => p.destroy()));
    },
  };
}
