import { answerWorkers, askPrimary } from "../cluster-rpc.js";
import { decodeResponse, encodeResponse, type ClaimOutcome, type IdempotencyStore } from "./store.js";

/**
 * The memory store with `workers` > 1: the cluster primary holds it and every worker reaches it over the cluster's
 * IPC channel ({@link askPrimary}), so a repeat that lands on another worker than the first request is still
 * recognised (a store per worker would forward it again). Bodies travel base64-encoded in the JSON messages.
 */

const CHANNEL = "idempotency";

type Operation =
  | { readonly op: "claim"; readonly organisation: string; readonly key: string; readonly fingerprint: string; readonly claimTtlMs: number }
  | { readonly op: "complete"; readonly organisation: string; readonly key: string; readonly token: string; readonly response: string; readonly windowMs: number }
  | { readonly op: "release"; readonly organisation: string; readonly key: string; readonly token: string };

/** Wire form of a claim outcome: the response encoded as base64. */
type WireOutcome = Exclude<ClaimOutcome, { kind: "replay" }> | { readonly kind: "replay"; readonly response: string };

/** In the cluster primary: answers the workers' store operations from `store`. Returns a function that stops it. */
export function serveIdempotencyToWorkers(store: IdempotencyStore): () => void {
  return answerWorkers<Operation, unknown>(CHANNEL, (m) => run(store, m));
}

async function run(store: IdempotencyStore, m: Operation): Promise<unknown> {
  switch (m.op) {
    case "claim": {
      const outcome = await store.claim(m.organisation, m.key, m.fingerprint, m.claimTtlMs);
      return outcome.kind === "replay" ? ({ kind: "replay", response: encodeResponse(outcome.response).toString("base64") } satisfies WireOutcome) : outcome;
    }
    case "complete":
      return store.complete(m.organisation, m.key, m.token, decodeResponse(Buffer.from(m.response, "base64")), m.windowMs);
    case "release":
      return store.release(m.organisation, m.key, m.token);
  }
}

/**
 * In a cluster worker: the {@link IdempotencyStore} the primary holds. An operation the primary has not answered
 * within `timeoutMs` rejects (the stage fails closed), as when the primary is gone.
 */
export function createClusterIdempotencyStore(o: { readonly timeoutMs: number }): IdempotencyStore {
  const primary = askPrimary<Operation, unknown>(CHANNEL, { timeoutMs: o.timeoutMs, unavailable: (why) => new Error(`idempotency store: ${why}`) });
  return {
    async claim(organisation, key, fingerprint, claimTtlMs) {
      const outcome = (await primary.ask({ op: "claim", organisation, key, fingerprint, claimTtlMs })) as WireOutcome;
      return outcome.kind === "replay" ? { kind: "replay", response: decodeResponse(Buffer.from(outcome.response, "base64")) } : outcome;
    },
    complete: async (organisation, key, token, response, windowMs) =>
      (await primary.ask({ op: "complete", organisation, key, token, response: encodeResponse(response).toString("base64"), windowMs })) === true,
    release: async (organisation, key, token) => void (await primary.ask({ op: "release", organisation, key, token })),
    reachable: () => primary.connected(),
    close: async () => primary.close(),
  };
}
