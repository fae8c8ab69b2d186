import cluster from "node:cluster";
import { randomUUID } from "node:crypto";

/**
 * Asking the cluster primary (`workers` > 1) over the IPC channel `node:cluster` gives every worker: the state one
 * host shares across its workers lives in the primary (the memory stores of the message-level rules — used `jti`s,
 * idempotency keys), and a worker asks it per operation. Without it each worker would see only the requests it
 * served, and a replay or a repeat that another worker takes would pass.
 *
 * Messages are JSON (Node's default serialization): the request and the answer must be plain data.
 */

type Call<Req> = { readonly type: string; readonly id: string; readonly request: Req };
type Answer<Res> = { readonly type: string; readonly id: string; readonly result?: Res; readonly error?: string };

/** The two message types of one channel (a worker ignores the other channels' answers). */
const types = (channel: string) => ({ call: `ofb-edge:${channel}`, answer: `ofb-edge:${channel}:answer` });

/**
 * In the primary: answers the workers' calls on `channel` with `handle`. A rejection travels back as its message.
 * Returns a function that stops answering.
 */
export function answerWorkers<Req, Res>(channel: string, handle: (request: Req) => Promise<Res>): () => void {
  const { call, answer } = types(channel);
  const onMessage = (worker: { send(m: Answer<Res>): boolean; isConnected(): boolean }, m: Partial<Call<Req>> | null) => {
    if (m?.type !== call || typeof m.id !== "string") return;
    const id = m.id;
    handle(m.request as Req).then(
      (result) => worker.isConnected() && worker.send({ type: answer, id, result }),
      (err: Error) => worker.isConnected() && worker.send({ type: answer, id, error: err.message }),
    );
  };
  cluster.on("message", onMessage);
  return () => void cluster.off("message", onMessage);
}

/** A worker's side of one channel. */
export interface PrimaryChannel<Req, Res> {
  /** The primary's answer; rejects with `unavailable(…)` when it fails, is gone, or does not answer in time. */
  ask(request: Req): Promise<Res>;
  /** Whether the IPC channel to the primary is open. */
  connected(): boolean;
  /** Stops listening; calls still waiting reject. */
  close(): void;
}

/**
 * In a worker: calls on `channel` to the primary's {@link answerWorkers}. A call the primary has not answered within
 * `timeoutMs` rejects, so that a caller fails closed rather than waits for a primary that is gone.
 */
export function askPrimary<Req, Res>(channel: string, o: { readonly timeoutMs: number; readonly unavailable: (why: string) => Error }): PrimaryChannel<Req, Res> {
  const { call, answer } = types(channel);
  const pending = new Map<string, { resolve(v: Res): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
  const onMessage = (m: Partial<Answer<Res>> | null) => {
    if (m?.type !== answer || typeof m.id !== "string") return;
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.error !== undefined) p.reject(o.unavailable(`the cluster primary answered: ${m.error}`));
    else p.resolve(m.result as Res);
  };
  process.on("message", onMessage);
  return {
    ask: (request) =>
      new Promise<Res>((resolve, reject) => {
        if (!process.send || !process.connected) return reject(o.unavailable("not connected to the cluster primary"));
        const id = randomUUID();
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(o.unavailable(`the cluster primary did not answer within ${o.timeoutMs} ms`));
        }, o.timeoutMs);
        pending.set(id, { resolve, reject, timer });
        process.send({ type: call, id, request } satisfies Call<Req>, undefined, undefined, (err: Error | null) => {
          if (!err || !pending.delete(id)) return;
          clearTimeout(timer);
          reject(o.unavailable(`the cluster primary could not be asked: ${err.message}`));
        });
      }),
    connected: () => process.connected === true,
    close() {
      process.off("message", onMessage);
      for (const p of pending.values()) {
        clearTimeout(p.timer);
        p.reject(o.unavailable("closed"));
      }
      pending.clear();
    },
  };
}
