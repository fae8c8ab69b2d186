import { Counter, Histogram, Registry } from "prom-client";

/** The edge's Prometheus metrics. Created by the composition root; nothing is registered on import. */
export interface EdgeMetrics {
  readonly registry: Registry;
  readonly handshakeFailures: Counter<"listener" | "reason">;
  readonly connections: Counter<"listener" | "result">;
  readonly rejections: Counter<"stage" | "code">;
  readonly requests: Counter<"route" | "status">;
  readonly requestDuration: Histogram<"route">;
  readonly upstreamErrors: Counter<"route" | "code">;
  readonly bindingReports: Counter<"route" | "code">;
  readonly firstSeen: Counter<"kind">;
}

export function createMetrics(): EdgeMetrics {
  const registry = new Registry();
  return {
    registry,
    handshakeFailures: new Counter({
      name: "ofb_edge_tls_handshake_failures_total",
      help: "TLS handshakes that failed or were closed by listener policy, by reason (OpenSSL error, authorizationError or reason code).",
      labelNames: ["listener", "reason"],
      registers: [registry],
    }),
    connections: new Counter({
      name: "ofb_edge_tls_connections_total",
      help: "Completed TLS handshakes by client-certificate result (accepted, rejected, absent).",
      labelNames: ["listener", "result"],
      registers: [registry],
    }),
    rejections: new Counter({
      name: "ofb_edge_rejections_total",
      help: "Requests rejected by the edge, by pipeline stage and reason code.",
      labelNames: ["stage", "code"],
      registers: [registry],
    }),
    requests: new Counter({
      name: "ofb_edge_requests_total",
      help: "Requests answered, by route and status.",
      labelNames: ["route", "status"],
      registers: [registry],
    }),
    requestDuration: new Histogram({
      name: "ofb_edge_request_duration_seconds",
      help: "Time from request to the end of the response.",
      labelNames: ["route"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    }),
    upstreamErrors: new Counter({
      name: "ofb_edge_upstream_errors_total",
      help: "Upstream failures, by route and reason code.",
      labelNames: ["route", "code"],
      registers: [registry],
    }),
    firstSeen: new Counter({
      name: "ofb_edge_identity_first_seen_total",
      help: "Unusual-identity signal: thumbprints and organisations seen for the first time since start.",
      labelNames: ["kind"],
      registers: [registry],
    }),
    bindingReports: new Counter({
      name: "ofb_edge_token_binding_reports_total",
      help: "Requests forwarded in binding report mode although the token's certificate binding failed, by route and reason code.",
      labelNames: ["route", "code"],
      registers: [registry],
    }),
  };
}
