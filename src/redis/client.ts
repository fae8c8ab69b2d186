import { readFileSync } from "node:fs";
import { Cluster, Redis, type ChainableCommander, type ClusterOptions, type RedisOptions } from "ioredis";
import { describeTarget, type RedisTarget } from "./target.js";

/**
 * A connection's commands: a `Redis` (standalone, or the primary Sentinel names) or a `Cluster` (which sends each
 * command to the node serving its key's slot). Both have the same command methods; what differs is that in a
 * Cluster every script, `MULTI` or multi-key command must name keys of one slot (see `keys.ts`).
 */
export type RedisClient = Redis | Cluster;

/** Per-connection settings of {@link createRedisClient}. */
export interface RedisClientOptions {
  /** `CLIENT SETNAME`, so operators find the edge's connections in `CLIENT LIST`. */
  readonly name: string;
  /** Bound on one command's reply; a command still unanswered then rejects. */
  readonly commandTimeoutMs: number;
}

/** Reconnect delays grow by 100 ms per attempt up to this cap, so a restarted or promoted Redis is found again quickly. */
const MAX_RECONNECT_DELAY_MS = 1_000;
/** How often a Cluster client re-reads the slot map, to follow a failover or resharding it did not run into. */
const SLOTS_REFRESH_MS = 5_000;

/**
 * Creates (without connecting: {@link connectWithin} does) the ioredis client for `target`:
 * `new Redis(url)`, `new Redis({ sentinels, name })` or `new Redis.Cluster(nodes)`, all with one policy:
 * - no command waits in a queue for Redis to come back: while it is unreachable a command fails at once
 *   (`enableOfflineQueue: false`, nothing retried or resent), and a command already sent fails after
 *   `commandTimeoutMs`, so every caller learns within a bound and applies its own fail-open/closed rule;
 * - reconnection never stops; with Sentinel every reconnection asks the Sentinels for the current primary, and
 *   a connection whose server answers it is not the primary (ioredis's role check) tries again. A connection also
 *   leaves its primary when a Sentinel announces a switch (`+switch-master`, ioredis's `failoverDetector`): a
 *   primary that hangs, or that this edge can reach but the Sentinels cannot, keeps its connections open and
 *   would otherwise hold them (every command timing out) until it comes back as a replica;
 * - a `READONLY` reply (the server became a replica: a failover this connection has not noticed) drops the
 *   connection so the next one goes to the primary; the command itself fails, as a transient error (never
 *   retried on a replica, never resent after the reconnect).
 *
 * Throws (naming the file) when the TLS CA file cannot be read.
 */
export function createRedisClient(target: RedisTarget, o: RedisClientOptions): RedisClient {
  const tls = target.tls ? { ...(target.tls.ca !== undefined && { ca: readCa(target.tls.ca) }) } : undefined;
  const common = {
    connectTimeout: target.connectTimeoutMs,
    commandTimeout: o.commandTimeoutMs,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectionName: o.name,
    // disconnect() is only used to abandon a connection (failed start-up, close while down): no grace period.
    disconnectTimeout: 0,
    reconnectOnError: (err: Error) => (/\bREADONLY\b/.test(err.message) ? 1 : false),
    ...(target.username !== undefined && { username: target.username }),
    ...(target.password !== undefined && { password: target.password }),
    ...(tls && { tls }),
  } satisfies RedisOptions;
  const retryStrategy = (attempt: number) => Math.min(100 * attempt, MAX_RECONNECT_DELAY_MS);
  switch (target.mode) {
    case "standalone":
      return new Redis(target.url, { ...common, lazyConnect: true, enableOfflineQueue: false, retryStrategy } satisfies RedisOptions);
    case "sentinel":
      return new Redis({
        ...common,
        lazyConnect: true,
        enableOfflineQueue: false,
        retryStrategy,
        sentinels: target.sentinels.map((s) => ({ host: s.host, port: s.port })),
        name: target.name,
        ...(target.sentinelPassword !== undefined && { sentinelPassword: target.sentinelPassword }),
        sentinelCommandTimeout: o.commandTimeoutMs,
        failoverDetector: true,
        ...(tls && { enableTLSForSentinelMode: true, sentinelTLS: tls }),
      } satisfies RedisOptions);
    case "cluster":
      return new Cluster(
        target.nodes.map((n) => ({ host: n.host, port: n.port })),
        {
          lazyConnect: true,
          enableOfflineQueue: false,
          slotsRefreshInterval: SLOTS_REFRESH_MS,
          slotsRefreshTimeout: Math.max(1_000, o.commandTimeoutMs),
          clusterRetryStrategy: retryStrategy,
          redisOptions: common,
        } satisfies ClusterOptions,
      );
  }
}

function readCa(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read the Redis TLS CA file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}

/**
 * Connects `client` and waits until it is ready, retrying (ioredis reconnects) until `timeoutMs` has passed.
 * On failure the client is disconnected for good — no reconnect timer survives — and the error names the
 * target (masked) and the last cause (ECONNREFUSED, ETIMEDOUT, WRONGPASS, …).
 */
export function connectWithin(client: RedisClient, target: RedisTarget | string, timeoutMs: number): Promise<void> {
  const where = typeof target === "string" ? target : describeTarget(target);
  return new Promise<void>((resolve, reject) => {
    let cause: Error | undefined;
    const onError = (err: Error & { lastNodeError?: Error }) => void (cause = err.lastNodeError ?? err);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const timer = setTimeout(() => {
      cleanup();
      client.disconnect();
      const why = cause ? `${cause.message}` : "no reply";
      reject(new Error(`cannot connect to Redis at ${where} within ${timeoutMs} ms: ${why}`, { cause }));
    }, timeoutMs);
    function cleanup() {
      clearTimeout(timer);
      client.off("error", onError);
      client.off("ready", onReady);
    }
    client.on("error", onError);
    client.once("ready", onReady);
    // The first attempt's rejection is also emitted as "error"; later attempts are ioredis reconnects.
    client.connect().catch((err: Error) => void (cause ??= err));
  });
}

/** Runs a pipeline or transaction and returns its replies, throwing the first command error. */
export async function exec(batch: ChainableCommander): Promise<unknown[]> {
  const results = await batch.exec();
  if (!results) throw new Error("Redis transaction aborted");
  return results.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}

/** How long a QUIT may wait for Redis's reply before the connection is dropped: shutdown never waits on Redis. */
const QUIT_TIMEOUT_MS = 1_000;

/**
 * Closes a connection: QUIT when it is up (within a second, then the connection is dropped), otherwise drop it
 * (and any reconnect timer) at once. Either way no socket or timer of this client outlives the call.
 */
export async function quit(c: RedisClient, timeoutMs = QUIT_TIMEOUT_MS): Promise<void> {
  if (c.status !== "ready") {
    c.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
  await Promise.race([c.quit().catch(() => undefined), late]);
  clearTimeout(timer);
  // After QUIT's reply Redis closes the connection; disconnect also stops ioredis from reconnecting if it did not.
  c.disconnect();
}
