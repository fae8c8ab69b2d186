import { Cluster } from "ioredis";
import type { Logger } from "../log/logger.js";
import { connectWithin, createRedisClient, quit, type RedisClient } from "./client.js";
import { takeLock, type RedisLock } from "./lock.js";
import { describeTarget, type RedisTarget } from "./target.js";

/** How soon a client that ended without being closed connects again. */
const RESTART_DELAY_MS = 100;

/** Options of {@link openRedisConnection}. */
export interface RedisConnectionOptions {
  /** Who uses the connection, in log lines: `directory store`, `deny list`, … */
  readonly user: string;
  /** `CLIENT SETNAME` of the command connection; the subscriber's is `<name>-changes`. */
  readonly name: string;
  /** How long opening may take, retrying, before it rejects (and leaves no socket or timer behind). */
  readonly connectTimeoutMs: number;
  /** Bound on one command's reply (the user's own, or `redis.commandTimeoutMs`). */
  readonly commandTimeoutMs: number;
  /** Also open a subscriber connection, for {@link RedisConnection.subscribe}. */
  readonly subscriber: boolean;
  /** What keeps working while Redis is unreachable, for the outage warning (e.g. `lookups answer from the in-process cache`). */
  readonly whileDown?: string;
  readonly logger?: Logger;
}

/**
 * One user's connection to Redis, on any topology. Everything a user of Redis needs:
 * - `client`: the commands, failing fast while Redis is unreachable. Single-key commands work alike on every
 *   topology (`SET key value NX PX ttl` for a one-time marker, `INCR`/`PEXPIRE` for a counter); a script
 *   (`client.eval`) or a transaction (`client.multi()`) must name keys of one `keyspace(prefix).group(tag)`;
 * - `subscribe(channel, onMessage)`: pub/sub on a separate connection (`PUBLISH` from anywhere, scripts and
 *   transactions included, reaches every subscriber in every topology);
 * - `onRestored(restore)`: messages published while a connection was down are lost; `restore` runs once the
 *   connections are back (after the subscriber re-subscribed), so the user re-reads what it may have missed;
 * - `lock(key, ttlMs)`: one holder at a time across replicas;
 * - `reachable()`: the health signal (every connection ready), for `/readyz` or a fail-open/closed decision; a
 *   server that hangs with its connections open shows as commands timing out, not here.
 *
 * An outage is logged once as a warning (and its end once), not once per reconnect attempt. Commands never
 * wait for Redis to come back (no offline queue) and are never resent: a write either got its reply or failed,
 * and the caller applies its own fail-open or fail-closed rule.
 *
 * @example A one-time marker across replicas (a JWS `jti` seen once in 24 h), any topology:
 * ```ts
 * const space = keyspace(keyPrefix);
 * const first = (await redis.client.set(space.key(`jti:${org}:${jti}`), "1", "PX", 86_400_000, "NX")) === "OK";
 * ```
 * @example A script over keys that belong together (an idempotency record and its in-flight marker): one group,
 * so one Cluster slot; derive the tag from what identifies the pair, hashed when it may contain braces.
 * ```ts
 * const pair = space.group(`idem:${org}:${sha256(idempotencyKey)}`);
 * await redis.client.eval(SCRIPT, 2, pair.key("response"), pair.key("inflight"), ...args);
 * ```
 */
export interface RedisConnection {
  readonly client: RedisClient;
  /** The target in words, without secrets, for logs and errors. */
  readonly where: string;
  /**
   * Subscribes to `channel`; `onMessage` receives each message. Rejects without a subscriber connection.
   *
   * Classic pub/sub (`SUBSCRIBE`/`PUBLISH`), not sharded pub/sub (`SSUBSCRIBE`/`SPUBLISH`, Redis 7): the same
   * commands on every topology and on the Redis 6 many deployments still run; a `PUBLISH` inside a script or
   * `MULTI` needs no slot (an `SPUBLISH` channel would have to share the slot of the script's keys, pulling, say,
   * every CRL onto one node); and the edge publishes a handful of messages an hour, so Redis Cluster forwarding
   * each to every node costs nothing. In Cluster mode ioredis subscribes on one node and moves to another when
   * that node fails; a message published in that instant is lost like one published during an outage, and each
   * user's periodic re-read covers it (Directory: the next sync's publish or confirmation; deny list: 30 s).
   */
  subscribe(channel: string, onMessage: (message: string) => void): Promise<void>;
  /** Calls `restore` after a connection came back (one call at a time; again on the next reconnect when it throws). */
  onRestored(restore: () => Promise<void>): void;
  lock(key: string, ttlMs: number): Promise<RedisLock | null>;
  reachable(): boolean;
  /** QUIT (bounded to a second each), then nothing of this connection is left: no socket, no timer. */
  close(): Promise<void>;
}

/**
 * Opens the connections of one user of Redis (see {@link RedisConnection}); this room is the only place that
 * creates Redis clients. Rejects when Redis cannot be reached within `connectTimeoutMs`, with an error naming
 * the target (masked) and the cause.
 */
export async function openRedisConnection(target: RedisTarget, o: RedisConnectionOptions): Promise<RedisConnection> {
  const { logger, user } = o;
  const where = describeTarget(target);
  const client = createRedisClient(target, { name: o.name, commandTimeoutMs: o.commandTimeoutMs });
  const subscriber = o.subscriber ? createRedisClient(target, { name: `${o.name}-changes`, commandTimeoutMs: o.commandTimeoutMs }) : null;
  const all = subscriber ? [client, subscriber] : [client];
  // ioredis prints "error" events nobody listens to; errors go to debug, an outage is logged once instead.
  for (const c of all) c.on("error", (err: Error) => logger?.debug({ err: { message: err.message } }, `${user}: Redis error`));

  const connected = await Promise.allSettled(all.map((c) => connectWithin(c, where, o.connectTimeoutMs)));
  const failed = connected.find((r) => r.status === "rejected");
  if (failed) {
    for (const c of all) c.disconnect();
    const reason = failed.reason as Error;
    throw new Error(`cannot open the ${user} on Redis at ${where}: ${reason.message}`, { cause: reason });
  }

  // ioredis ends a client for good when its connector gives up mid-connect — with Sentinel, when the failover
  // detector drops a connection that is still asking for the new primary (the Sentinel announced the switch
  // while the old primary was being retried). Reconnection must never stop: start it again.
  let closed = false;
  const restarts = new Set<NodeJS.Timeout>();
  for (const c of all)
    c.on("end", () => {
      if (closed) return;
      logger?.debug({ redis: where }, `${user}: Redis client ended unexpectedly; connecting again`);
      const timer = setTimeout(() => {
        restarts.delete(timer);
        if (!closed && c.status === "end") c.connect().catch(() => undefined);
      }, RESTART_DELAY_MS);
      restarts.add(timer);
    });

  const handlers = new Map<string, (message: string) => void>();
  subscriber?.on("message", (channel: string, message: string) => handlers.get(channel)?.(message));
  let stopWatching = () => undefined as void;

  return {
    client,
    where,
    async subscribe(channel, onMessage) {
      if (!subscriber) throw new Error(`${user}: opened without a subscriber connection`);
      handlers.set(channel, onMessage);
      await subscriber.subscribe(channel);
    },
    onRestored(restore) {
      stopWatching();
      stopWatching = watchReconnects(all, where, user, o.whileDown, async () => {
        // PING on the subscriber answers after its re-subscription.
        await subscriber?.ping();
        await restore();
      }, logger);
    },
    lock: (key, ttlMs) => takeLock(client, key, ttlMs),
    reachable: () => all.every((c) => c.status === "ready"),
    async close() {
      closed = true;
      for (const timer of restarts) clearTimeout(timer);
      stopWatching();
      handlers.clear();
      await Promise.all(all.map((c) => quit(c)));
    },
  };
}

/**
 * Watches connections that ioredis reconnects on its own. Logs an outage once (not every retry), and after any
 * connection comes back calls `restore` — deferred, because ioredis re-subscribes right after emitting "ready"
 * — one call at a time, again if another connection came back meanwhile. `restore` throws while a connection
 * is still down; the next "ready" retries. Returns a function that stops it (for a deliberate close).
 */
function watchReconnects(clients: readonly RedisClient[], where: string, user: string, whileDown: string | undefined, restore: () => Promise<void>, logger?: Logger): () => void {
  let outage = false;
  let stopped = false;
  let running = false;
  let again = false;
  async function run(): Promise<void> {
    if (running) return void (again = true);
    running = true;
    do {
      again = false;
      try {
        await restore();
        if (outage) logger?.info({ redis: where }, `${user}: Redis connection restored`);
        outage = false;
      } catch (err) {
        logger?.debug({ err: { message: (err as Error).message } }, `${user}: not restored yet; retrying on the next reconnect`);
      }
    } while (again && !stopped);
    running = false;
  }
  const onClose = () => {
    if (!outage && !stopped) logger?.warn({ redis: where }, `${user}: Redis connection lost${whileDown ? `; ${whileDown}` : ""}`);
    outage = !stopped;
  };
  const onReady = () => void setImmediate(() => void (stopped || run()));
  // A Cluster client also moves its subscriber to another node by itself when a node fails, without an event of
  // its own; the node set changing (a failover, a node added or removed: seen at the next slot-map refresh) is
  // the public sign of it.
  const events = (c: RedisClient) => (c instanceof Cluster ? ["ready", "+node", "-node"] : ["ready"]);
  for (const c of clients) {
    c.on("close", onClose);
    for (const event of events(c)) c.on(event, onReady);
  }
  return () => {
    stopped = true;
    for (const c of clients) {
      c.off("close", onClose);
      for (const event of events(c)) c.off(event, onReady);
    }
  };
}
