import cluster from "node:cluster";
import { randomUUID } from "node:crypto";
import { decodeResponse, encodeResponse, type ClaimOutcome, type IdempotencyStore } from "./store.js";

/**
 * The memory store with `workers` > 1: the cluster primary holds it and every worker reaches it over the cluster's
 * IPC channel, so a repeat that lands on another worker than the first request is still recognised (a store per
 * worker would forward it again). Bodies travel base64-encoded in the JSON messages.
 */

const REQUEST = "ofb-edge:idempotency";
const REPLY = "ofb-edge:idempotency-reply";

type Operation =
  | { readonly op: "claim"; readonly organisation: string; readonly key: string; readonly fingerprint: string; readonly claimTtlMs: number }
  | { readonly op: "complete"; readonly organisation: string; readonly key: string; readonly token: string; readonly response: string; readonly windowMs: number }
  | { readonly op: "release"; readonly organisation: string; readonly key: string; readonly token: string };

type Request = { readonly type: typeof REQUEST; readonly id: string } & Operation;
type Reply = { readonly type: typeof REPLY; readonly id: string; readonly result?: unknown; readonly error?: string };

/** Wire form of a claim outcome: the response encoded as base64. */
type WireOutcome = Exclude<ClaimOutcome, { kind: "replay" }> | { readonly kind: "replay"; readonly response: string };

/** In the cluster primary: answers the workers' store operations from `store`. Returns a function that stops it. */
export function serveIdempotencyToWorkers(store: IdempotencyStore): () => void {
  const onMessage = (worker: { send(m: Reply): boolean; isConnected(): boolean }, m: Partial<Request>) => {
    if (m?.type !== REQUEST || typeof m.id !== "string") return;
    const id = m.id;
    run(store, m as Request).then(
      (result) => worker.isConnected() && worker.send({ type: REPLY, id, result }),
      (err: Error) => worker.isConnected() && worker.send({ type: REPLY, id, error: err.message }),
    );
  };
  cluster.on("message", onMessage);
  return () => void cluster.off("message", onMessage);
}

async function run(store: IdempotencyStore, m: Request): Promise<unknown> {
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
  const pending = new Map<string, { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
  const onMessage = (m: Partial<Reply>) => {
    if (m?.type !== REPLY || typeof m.id !== "string") return;
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.error !== undefined) p.reject(new Error(`idempotency store (cluster primary): ${m.error}`));
    else p.resolve(m.result);
  };
  process.on("message", onMessage);
  const ask = (operation: Operation) =>
    new Promise<unknown>((resolve, reject) => {
      if (!process.send || !process.connected) return reject(new Error("idempotency store: not connected to the cluster primary"));
      const id = randomUUID();
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`idempotency store: the cluster primary did not answer within ${o.timeoutMs} ms`));
      }, o.timeoutMs);
      pending.set(id, { resolve, reject, timer });
      process.send({ type: REQUEST, id, ...operation } satisfies Request, undefined, undefined, (err: Error | null) => {
        if (!err) return;
        clearTimeout(timer);
        pending.delete(id);
        reject(err);
      });
    });
  return {
    async claim(organisation, key, fingerprint, claimTtlMs) {
      const outcome = (await ask({ op: "claim", organisation, key, fingerprint, claimTtlMs })) as WireOutcome;
      return outcome.kind === "replay" ? { kind: "replay", response: decodeResponse(Buffer.from(outcome.response, "base64")) } : outcome;
    },
    complete: async (organisation, key, token, response, windowMs) =>
      (await ask({ op: "complete", organisation, key, token, response: encodeResponse(response).toString("base64"), windowMs })) === true,
    release: async (organisation, key, token) => void (await ask({ op: "release", organisation, key, token })),
    reachable: () => process.connected === true,
    async close() {
      process.off("message", onMessage);
      for (const [id, p] of pending) {
        clearTimeout(p.timer);
        p.reject(new Error("idempotency store closed"));
        pending.delete(id);
      }
    },
  };
}
