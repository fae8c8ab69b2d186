import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { packageInfo } from "../package-root.js";
import { checkCommitId } from "../source-commit.js";

/**
 * The edge's Prometheus metrics. Created by the composition root; nothing is registered on import.
 *
 * With `workers` > 1 the cluster primary merges the workers' registries (prom-client `AggregatorRegistry`), each
 * metric by the `aggregator` it declares: counters and histograms add up; a gauge says how it combines (expiry takes
 * the smallest, an age the largest, the size of shared state the largest); per-worker state that adds up to nothing
 * meaningful carries a `worker` label instead.
 */
export interface EdgeMetrics {
  readonly registry: Registry;
  /** `{ worker: "<id>" }` in a cluster worker, `{}` in a single process: the labels of per-worker series. */
  readonly workerLabels: Readonly<{ worker?: string }>;
  readonly handshakeFailures: Counter<"listener" | "reason">;
  readonly connections: Counter<"listener" | "result">;
  readonly rejections: Counter<"stage" | "code">;
  readonly requests: Counter<"route" | "status">;
  readonly requestDuration: Histogram<"route">;
  readonly upstreamErrors: Counter<"route" | "code">;
  readonly bindingReports: Counter<"route" | "code">;
  readonly firstSeen: Counter<"kind" | "worker">;
  // Signed messages (messages/): signatures verified or refused by reason, jti replays, responses signed.
  readonly messageSignatures: Counter<"route" | "result" | "code">;
  readonly messageReplays: Counter<"route">;
  readonly messageResponses: Counter<"route" | "outcome">;
}

export interface MetricsOptions {
  /** The cluster worker's id (`cluster.worker.id`); absent in a single process. */
  readonly worker?: string | undefined;
  /** Node.js process metrics (`ofb_edge_process_*`, `ofb_edge_nodejs_*`): on in `serve`, off in tests that start many edges. */
  readonly process?: boolean;
  /** The source commit the build came from, when the deployment says (`OFB_EDGE_COMMIT`): a label of `ofb_edge_build_info`. */
  readonly commit?: string | undefined;
}

/** Prefix of every metric the edge exposes, the process metrics included. */
export const METRIC_PREFIX = "ofb_edge_";

export function createMetrics(options: MetricsOptions = {}): EdgeMetrics {
  const registry = new Registry();
  const workerLabels = options.worker === undefined ? {} : { worker: options.worker };
  if (options.worker !== undefined && !/^\d+$/.test(options.worker)) throw new TypeError(`metrics: worker must be a cluster worker id, got '${options.worker}'`);
  const commit = options.commit === undefined ? undefined : checkCommitId(options.commit);
  new Gauge({
    name: "ofb_edge_build_info",
    help: "Always 1; the labels say which build runs: the package version, the Node.js version and, when given (OFB_EDGE_COMMIT), the source commit.",
    labelNames: ["version", "node", "commit"],
    registers: [registry],
    aggregator: "first",
  }).set({ version: packageInfo().version, node: process.versions.node, ...(commit === undefined ? {} : { commit }) }, 1);
  if (options.process) registerProcessMetrics(registry, workerLabels);
  return {
    registry,
    workerLabels,
    handshakeFailures: new Counter({
      name: "ofb_edge_tls_handshake_failures_total",
      help: "TLS handshakes that failed or were closed by listener policy, by reason (OpenSSL error, authorizationError or reason code).",
      labelNames: ["listener", "reason"],
      registers: [registry],
      aggregator: "sum",
    }),
    connections: new Counter({
      name: "ofb_edge_tls_connections_total",
      help: "Completed TLS handshakes by client-certificate result (accepted, rejected, absent).",
      labelNames: ["listener", "result"],
      registers: [registry],
      aggregator: "sum",
    }),
    rejections: new Counter({
      name: "ofb_edge_rejections_total",
      help: "Requests rejected by the edge, by pipeline stage and reason code.",
      labelNames: ["stage", "code"],
      registers: [registry],
      aggregator: "sum",
    }),
    requests: new Counter({
      name: "ofb_edge_requests_total",
      help: "Requests answered, by route and status.",
      labelNames: ["route", "status"],
      registers: [registry],
      aggregator: "sum",
    }),
    requestDuration: new Histogram({
      name: "ofb_edge_request_duration_seconds",
      help: "Time from request to the end of the response.",
      labelNames: ["route"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
      aggregator: "sum",
    }),
    upstreamErrors: new Counter({
      name: "ofb_edge_upstream_errors_total",
      help: "Requests whose backend failed: no connection or no answer (UPSTREAM_UNAVAILABLE, UPSTREAM_TIMEOUT), or an answer broken off mid-response; by route and reason code.",
      labelNames: ["route", "code"],
      registers: [registry],
      aggregator: "sum",
    }),
    // Each worker remembers the identities it has seen: a sum would count one new organisation once per worker.
    firstSeen: new Counter({
      name: "ofb_edge_identity_first_seen_total",
      help: "Unusual-identity signal: thumbprints and organisations seen for the first time since start (per worker: label worker).",
      labelNames: ["kind", "worker"],
      registers: [registry],
      aggregator: "sum",
    }),
    bindingReports: new Counter({
      name: "ofb_edge_token_binding_reports_total",
      help: "Requests forwarded in binding report mode although the token's certificate binding failed, by route and reason code.",
      labelNames: ["route", "code"],
      registers: [registry],
      aggregator: "sum",
    }),
    messageSignatures: new Counter({
      name: "ofb_edge_message_signatures_total",
      help: "Signed request messages (JWS) by route and result: verified, or refused with the reason code (MESSAGE_*; a replayed jti is MESSAGE_JTI_REPLAYED).",
      labelNames: ["route", "result", "code"],
      registers: [registry],
      aggregator: "sum",
    }),
    messageReplays: new Counter({
      name: "ofb_edge_message_jti_replays_total",
      help: "Signed request messages refused because their jti was already used (within messageSigning.jtiTtlSeconds, on any replica), by route.",
      labelNames: ["route"],
      registers: [registry],
      aggregator: "sum",
    }),
    messageResponses: new Counter({
      name: "ofb_edge_message_responses_total",
      help: "Responses of verify-and-sign routes by route and outcome: signed (the backend's payload, signed by the edge), error-signed (an error the edge produced, signed), kept (the backend's own JWS, sign if-unsigned), empty (no body to sign).",
      labelNames: ["route", "outcome"],
      registers: [registry],
      aggregator: "sum",
    }),
  };
}

/**
 * Node.js process metrics (resident memory, heap, CPU seconds, event-loop lag, file descriptors, GC), one series per
 * process: in a cluster each worker's carry its `worker` label, so nothing is added up across workers (an event-loop
 * lag or a heap size means something per process; sum them in PromQL for the pod).
 */
function registerProcessMetrics(registry: Registry, labels: Readonly<{ worker?: string }>): void {
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX, labels });
  for (const metric of registry.getMetricsAsArray()) {
    // prom-client omits the start time from a cluster aggregate; with one series per worker it is that worker's.
    if (metric.name === `${METRIC_PREFIX}process_start_time_seconds`) metric.aggregator = "first";
  }
}

/** Configuration reloads (SIGHUP, a changed file), counted where they are decided: the process, or the cluster primary. */
export function createReloadMetrics(registry: Registry): Counter<"result"> {
  const reloads = new Counter({
    name: "ofb_edge_reloads_total",
    help: "Configuration reloads by result: success (applied) or failure (refused; the running configuration stays).",
    labelNames: ["result"],
    registers: [registry],
    aggregator: "sum",
  });
  // Both series exist from the start, so that an alert on increase(…{result="failure"}) sees the first failure.
  reloads.inc({ result: "success" }, 0);
  reloads.inc({ result: "failure" }, 0);
  return reloads;
}
