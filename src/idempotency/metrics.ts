import { Counter, type Registry } from "prom-client";

/** The idempotency stage's metrics (README "Metrics"); counters add up across workers. */
export interface IdempotencyMetrics {
  /** Requests of idempotent operations by what the stage did: first (forwarded with its key claimed), replayed, conflict (422), in-progress (409). */
  readonly requests: Counter<"route" | "outcome">;
  /** Repeats that arrived while the first was in flight, by how their wait ended: replayed, forwarded (the first freed its key), conflict, timed-out (409). */
  readonly waits: Counter<"route" | "result">;
  /** First requests' responses: stored, or why not (status, too-large, incomplete, claim-lost, store-error). */
  readonly responses: Counter<"route" | "result">;
  /** Store operations that failed (claim: the request was refused with 503; complete, release: see responses). */
  readonly storeErrors: Counter<"operation">;
  /** Claims and completions forwarded although the store's replicas did not acknowledge them in time. */
  readonly unreplicated: Counter;
  /** Keys the memory store dropped to stay within maxEntries. */
  readonly evictions: Counter;
}

export function createIdempotencyMetrics(registry: Registry): IdempotencyMetrics {
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) => new Counter<L>({ name, help, labelNames: [...labelNames], registers: [registry], aggregator: "sum" });
  return {
    requests: counter("ofb_edge_idempotency_requests_total", "Requests of idempotent operations by outcome: first (forwarded, key claimed), replayed (answered from the store), conflict (422 ERRO_IDEMPOTENCIA), in-progress (409).", ["route", "outcome"]),
    waits: counter("ofb_edge_idempotency_inflight_waits_total", "Repeats that waited for a first request still in flight, by how the wait ended: replayed, forwarded (the first freed its key), conflict, timed-out (409).", ["route", "result"]),
    responses: counter("ofb_edge_idempotency_responses_total", "First requests' responses: stored, or not stored by reason (status, too-large, incomplete, claim-lost, store-error).", ["route", "result"]),
    storeErrors: counter("ofb_edge_idempotency_store_errors_total", "Idempotency store operations that failed, by operation (claim, complete, release).", ["operation"]),
    unreplicated: counter("ofb_edge_idempotency_unreplicated_total", "Claims and completions used although the store's replicas did not acknowledge them in time (idempotency.store.replicaAcks).", []),
    evictions: counter("ofb_edge_idempotency_evictions_total", "Keys the memory store dropped, oldest first, to stay within idempotency.store.maxEntries.", []),
  };
}
