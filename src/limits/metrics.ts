import { Counter, type Registry } from "prom-client";

/** The traffic limits' metrics (README "Metrics"); counters add up across workers. */
export interface LimitsMetrics {
  /** Requests refused by scope: participant (429) or global (529). */
  readonly limited: Counter<"route" | "scope">;
  /** Requests whose counters could not be reached, by what was decided: open (forwarded uncounted) or closed (503). */
  readonly storeErrors: Counter<"decision">;
}

export function createLimitsMetrics(registry: Registry): LimitsMetrics {
  const limited = new Counter({
    name: "ofb_edge_limited_requests_total",
    help: "Requests refused by the traffic limits, by route and scope: participant (429 RATE_LIMIT_EXCEEDED) or global (529 SITE_OVERLOADED).",
    labelNames: ["route", "scope"],
    registers: [registry],
    aggregator: "sum",
  });
  const storeErrors = new Counter({
    name: "ofb_edge_limit_store_errors_total",
    help: "Requests whose traffic counters could not be reached (Redis, or the cluster primary), by decision: open (forwarded uncounted) or closed (503 TRAFFIC_LIMITS_UNAVAILABLE).",
    labelNames: ["decision"],
    registers: [registry],
    aggregator: "sum",
  });
  // Both series exist from the start, so that an alert on increase() sees the first error.
  storeErrors.inc({ decision: "open" }, 0);
  storeErrors.inc({ decision: "closed" }, 0);
  return { limited, storeErrors };
}
