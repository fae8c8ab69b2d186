import { randomUUID } from "node:crypto";
import { ReplayStoreUnavailableError, type ReplayStore } from "./replay-store.js";

/**
 * The memory replay store across `node:cluster` workers: the primary holds the one store, and each worker asks it
 * over IPC. Without it every worker would remember only the `jti`s it saw, and a replay sent on another connection
 * (another worker) would pass.
 */

const REQUEST = "ofb-edge:jti";
const ANSWER = "ofb-edge:jti-answer";
/** How long a worker waits for the primary's answer before refusing the request (503). */
const ANSWER_TIMEOUT_MS = 2_000;

type Request = { readonly type: typeof REQUEST; readonly id: string; readonly key: string; readonly ttlMs: number };
type Answer = { readonly type: typeof ANSWER; readonly id: string; readonly first?: boolean; readonly error?: string };

/** In a worker: the primary's store, asked over the IPC channel (`process.send`). */
export function primaryReplayStore(): ReplayStore {
  const waiting = new Map<string, { resolve: (first: boolean) => void; reject: (err: Error) => void; timer: NodeJS.Timeout }>();
  const onMessage = (m: Answer) => {
    if (m?.type !== ANSWER) return;
    const w = waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    clearTimeout(w.timer);
    if (typeof m.first === "boolean") w.resolve(m.first);
    else w.reject(new ReplayStoreUnavailableError(`the primary process's jti store: ${m.error ?? "no answer"}`));
  };
  process.on("message", onMessage);
  return {
    firstUse(key, ttlMs) {
      return new Promise((resolve, reject) => {
        if (!process.connected || !process.send) return reject(new ReplayStoreUnavailableError("the primary process is gone"));
        const id = randomUUID();
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new ReplayStoreUnavailableError(`the primary process did not answer within ${ANSWER_TIMEOUT_MS} ms`));
        }, ANSWER_TIMEOUT_MS);
        waiting.set(id, { resolve, reject, timer });
        process.send({ type: REQUEST, id, key, ttlMs } satisfies Request);
      });
    },
    async close() {
      process.off("message", onMessage);
      for (const w of waiting.values()) {
        clearTimeout(w.timer);
        w.reject(new ReplayStoreUnavailableError("closed"));
      }
      waiting.clear();
    },
  };
}

/** In the primary: answers a worker's replay-store request from `store`; false when `message` is not one. */
export function answerReplayRequest(message: unknown, store: ReplayStore, reply: (answer: Answer) => void): boolean {
  const m = message as Partial<Request> | null;
  if (m?.type !== REQUEST || typeof m.id !== "string" || typeof m.key !== "string" || typeof m.ttlMs !== "number") return false;
  const id = m.id;
  store.firstUse(m.key, m.ttlMs).then(
    (first) => reply({ type: ANSWER, id, first }),
    (err: Error) => reply({ type: ANSWER, id, error: err.message }),
  );
  return true;
}
