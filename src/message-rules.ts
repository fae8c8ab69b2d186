import type { AppDeps } from "./app.js";
import type { Config } from "./config/schema.js";
import type { Keystore } from "./directory/keystore.js";
import { createIdempotencyMetrics, type IdempotencyMetrics } from "./idempotency/metrics.js";
import { openIdempotencyStore } from "./idempotency/open.js";
import type { IdempotencyStore } from "./idempotency/store.js";
import type { LimiterBackend } from "./limits/backend.js";
import { createLimitsMetrics, type LimitsMetrics } from "./limits/metrics.js";
import { openLimiterBackend } from "./limits/open.js";
import { createTrafficLimits } from "./limits/traffic-limits.js";
import type { Logger } from "./log/logger.js";
import { primaryReplayStore } from "./messages/replay-cluster.js";
import { createMemoryReplayStore, openRedisReplayStore, type ReplayStore } from "./messages/replay-store.js";
import type { ResponseSigner } from "./messages/response-signer.js";
import { messageMetrics } from "./messages/signing-metrics.js";
import { createMessageVerifier } from "./messages/signing-verify.js";
import type { EdgeMetrics } from "./metrics/registry.js";
import { redisTargetFor } from "./redis/config.js";

/**
 * The message-level rules of the OFB payments APIs — signed messages, idempotency, traffic limits — as the edge
 * composes them: their stores are restart-only (their connections outlive a reload, like the deny list's), and each
 * configuration generation builds its stages on them.
 */
export interface MessageRuleStores {
  readonly idempotency: { readonly store: IdempotencyStore; readonly metrics: IdempotencyMetrics } | null;
  readonly limiter: { readonly backend: LimiterBackend; readonly metrics: LimitsMetrics } | null;
  /** Where used `jti`s are remembered (`messageSigning.replayStore`). */
  readonly replay: ReplayStore | null;
  /** Closes every store; each promise settles. */
  close(): Promise<void>[];
}

/**
 * Opens the stores the configuration names, in order; if one cannot open, those already open are closed and the
 * error is thrown (nothing half-open). In a cluster worker the memory stores are the primary's.
 */
export async function openMessageRuleStores(
  config: Config,
  o: { readonly inClusterWorker: boolean; readonly logger: Logger; readonly metrics: EdgeMetrics; readonly now: () => number },
): Promise<MessageRuleStores> {
  const shared = { redis: config.redis, inClusterWorker: o.inClusterWorker, logger: o.logger };
  let idempotency: MessageRuleStores["idempotency"] = null;
  let limiter: MessageRuleStores["limiter"] = null;
  let replay: ReplayStore | null = null;
  const close = () => [idempotency?.store.close(), limiter?.backend.close(), replay?.close()].map((p) => Promise.resolve(p).then(() => undefined, () => undefined));
  try {
    if (config.idempotency) {
      const metrics = createIdempotencyMetrics(o.metrics.registry);
      idempotency = { store: await openIdempotencyStore(config.idempotency, { ...shared, metrics }), metrics };
    }
    if (config.limits) limiter = { backend: await openLimiterBackend(config.limits, shared), metrics: createLimitsMetrics(o.metrics.registry) };
    const replayStore = config.messageSigning?.replayStore;
    if (replayStore?.type === "redis")
      replay = await openRedisReplayStore({ redis: redisTargetFor(config.redis, replayStore, "messageSigning.replayStore"), keyPrefix: replayStore.keyPrefix, connectTimeoutMs: replayStore.connectTimeoutMs, logger: o.logger });
    // In a cluster worker the memory store is the primary's, shared by every worker (a replay on another connection is still one).
    else if (replayStore) replay = o.inClusterWorker ? primaryReplayStore() : createMemoryReplayStore({ now: o.now });
  } catch (cause) {
    await Promise.all(close());
    throw cause;
  }
  return { idempotency, limiter, replay, close };
}

/**
 * The message-rule stages of one generation for `createApp`: signed messages on the callers' keys (`keys`, null
 * without a Directory) and the jti store, the responses signed by `signer`; idempotency; traffic limits.
 */
export function messageRuleDeps(
  config: Config,
  stores: MessageRuleStores,
  keys: Keystore | null,
  signer: ResponseSigner | null,
  o: { readonly metrics: EdgeMetrics; readonly logger: Logger; readonly now: () => number },
): Pick<AppDeps, "messages" | "idempotency" | "limits"> {
  return {
    messages: messagesFor(config, stores, keys, signer, o),
    idempotency: stores.idempotency && config.idempotency ? { ...stores.idempotency, config: config.idempotency } : null,
    limits: stores.limiter && config.limits ? { limits: createTrafficLimits(config.limits, stores.limiter.backend), metrics: stores.limiter.metrics } : null,
  };
}

function messagesFor(config: Config, stores: MessageRuleStores, keys: Keystore | null, signer: ResponseSigner | null, o: { readonly metrics: EdgeMetrics; readonly logger: Logger; readonly now: () => number }): AppDeps["messages"] {
  const section = config.messageSigning;
  if (!section || !keys || !stores.replay) return null;
  const metrics = messageMetrics(o.metrics);
  return {
    stage: {
      verifier: createMessageVerifier({ algorithms: section.algorithms, clockSkewSeconds: section.clockSkewSeconds, key: (org, kid) => keys.applicationKey(org, kid) }),
      replay: stores.replay,
      jtiTtlMs: section.jtiTtlSeconds * 1000,
      maxBodyBytes: config.proxy.maxRequestBodyBytes,
      now: o.now,
      metrics,
      logger: o.logger,
    },
    signing: { signer, sign: section.sign, maxResponseBytes: section.maxResponseBytes, metrics },
  };
}

/** Routes on which the traffic limits run: explicit per route, else enforce when a `limits` section is configured. */
export function limitsMode(route: Config["routes"][number], configured: boolean): "enforce" | "off" {
  return route.limits ?? (configured ? "enforce" : "off");
}

/**
 * `/readyz` members for the stores: the idempotency store unreachable makes the edge not ready (idempotent operations
 * answer 503); unreachable counters only when the limits fail closed.
 */
export function messageRulesReadiness(stores: MessageRuleStores, onStoreError: "open" | "closed") {
  const { idempotency, limiter } = stores;
  return {
    ...(idempotency && { idempotency: idempotency.store.reachable() ? null : "the idempotency store is unreachable (idempotent operations answer 503)" }),
    ...(limiter && { limits: limiter.backend.reachable() ? null : limitsUnreachable(onStoreError) }),
  };
}

function limitsUnreachable(onStoreError: "open" | "closed") {
  if (onStoreError === "closed") return "the traffic limit store is unreachable (limits.onStoreError closed: requests answer 503)";
  return { reason: null, detail: { store: "unreachable: requests are forwarded uncounted (limits.onStoreError open)" } };
}
