import { answerWorkers, askPrimary } from "../cluster-rpc.js";
import type { MessageSigningConfig } from "./signing-config.js";
import { createMemoryReplayStore, ReplayStoreUnavailableError, type ReplayStore } from "./replay-store.js";

/**
 * The memory replay store across `node:cluster` workers: the primary holds the one store, and each worker asks it
 * ({@link askPrimary}). Without it every worker would remember only the `jti`s it saw, and a replay sent on another
 * connection (another worker) would pass.
 */

const CHANNEL = "jti";
/** How long a worker waits for the primary's answer before refusing the request (503). */
const ANSWER_TIMEOUT_MS = 2_000;

type FirstUse = { readonly key: string; readonly ttlMs: number };

/** In a worker: the primary's store. */
export function primaryReplayStore(): ReplayStore {
  const primary = askPrimary<FirstUse, boolean>(CHANNEL, { timeoutMs: ANSWER_TIMEOUT_MS, unavailable: (why) => new ReplayStoreUnavailableError(`the jti store: ${why}`) });
  return {
    firstUse: (key, ttlMs) => primary.ask({ key, ttlMs }),
    close: async () => primary.close(),
  };
}

/**
 * In the cluster primary with `messageSigning.replayStore` memory: the one store every worker uses. Returns a
 * function that stops serving it, or null when the store is not the memory one.
 */
export function replayStoreInPrimary(config: MessageSigningConfig | undefined): (() => void) | null {
  if (config?.replayStore.type !== "memory") return null;
  const store = createMemoryReplayStore();
  const stop = answerWorkers<FirstUse, boolean>(CHANNEL, ({ key, ttlMs }) => store.firstUse(key, ttlMs));
  return () => {
    stop();
    void store.close();
  };
}
