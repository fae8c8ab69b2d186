import type { MiddlewareHandler } from "hono";
import { EdgeError } from "../errors.js";
import type { LimitsMetrics } from "../limits/metrics.js";
import type { TrafficLimits } from "../limits/traffic-limits.js";
import type { Logger } from "../log/logger.js";
import type { EdgeEnv } from "./context.js";

/** Store errors are logged at most this often (a Redis outage would otherwise log once per request). */
const ERROR_LOG_INTERVAL_MS = 10_000;

/**
 * Stage: the traffic limits, on routes with `limits: enforce`. It runs as soon as the caller is known — right after
 * the certificate stage, which identifies the organisation from the certificate already verified for the connection
 * — and before the stages that cost something per request (the Directory and keystore, the access token, the message
 * signature), so that a participant over its limit is refused before it costs them. Over a participant limit: 429
 * with Retry-After (OFB OpenAPI TooManyRequests; RFC 6585 §4); over the route's global ceiling: 529 (OFB OpenAPI
 * SiteIsOverloaded: "foi atingido o limite máximo de TPS global"), also with Retry-After. When the counters cannot be
 * reached, `limits.onStoreError` decides (open: forwarded, counted as an error; closed: 503).
 */
export function trafficLimits(o: { readonly limits: TrafficLimits | null; readonly metrics: LimitsMetrics; readonly logger: Logger }): MiddlewareHandler<EdgeEnv> {
  let lastLogged = 0;
  const logStoreError = (err: Error, decision: "open" | "closed") => {
    o.metrics.storeErrors.inc({ decision });
    const now = Date.now();
    if (now - lastLogged < ERROR_LOG_INTERVAL_MS) return;
    lastLogged = now;
    o.logger.warn({ kind: "limits", decision, err: { message: err.message } }, decision === "open" ? "traffic limits unavailable: forwarding uncounted" : "traffic limits unavailable: refusing");
  };
  return async function trafficLimits(c, next) {
    const route = c.get("route")!;
    const { limits } = o;
    if (route.limits !== "enforce" || limits === null) {
      await next();
      return;
    }
    const url = c.env.incoming.url ?? "/";
    const q = url.indexOf("?");
    const client = c.get("client");
    const verdict = await limits.check(
      { name: route.config.name, globalPerSecond: route.config.globalPerSecond },
      q < 0 ? url : url.slice(0, q),
      client ? { organisationId: client.identity.organisationId, softwareStatementId: client.identity.softwareStatementId } : null,
    );
    if (!verdict.ok) {
      if (verdict.scope === "store") {
        logStoreError(verdict.error, "closed");
        throw new EdgeError("TRAFFIC_LIMITS_UNAVAILABLE", "limits", "the traffic limits cannot be checked now; retry later", { headers: { "retry-after": "5" }, cause: verdict.error });
      }
      o.metrics.limited.inc({ route: route.config.name, scope: verdict.scope });
      const headers = { "retry-after": String(verdict.retryAfterSeconds) };
      if (verdict.scope === "participant") throw new EdgeError("RATE_LIMIT_EXCEEDED", "limits", verdict.detail, { headers });
      throw new EdgeError("SITE_OVERLOADED", "limits", `O site está sobrecarregado e a operação foi recusada, pois foi atingido o limite máximo de TPS global, neste momento (${verdict.detail}).`, { headers });
    }
    if (verdict.storeError) logStoreError(verdict.storeError, "open");
    await next();
  };
}
