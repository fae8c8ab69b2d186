import { randomUUID } from "node:crypto";
import type { ChainableCommander, Redis, RedisOptions } from "ioredis";
import { RELEASE_SCRIPT } from "./redis-keys.js";
import type { Logger } from "../log/logger.js";

/** Reconnect delays grow by 100 ms per attempt up to this cap, so a restarted Redis is found again quickly. */
const MAX_RECONNECT_DELAY_MS = 1_000;

/** A Redis URL fit for logs and error messages: the password, if any, replaced by `***`. */
export function maskRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(an unparseable Redis URL)";
  }
}

/**
 * ioredis options for the directory store. No command waits in a queue for Redis to come back: while it is
 * unreachable a command fails at once (`enableOfflineQueue: false`, nothing retried or resent), and a command
 * already sent fails after `commandTimeoutMs`, so a lookup during an outage fails within a bound and the
 * caller fails closed. Reconnection itself never stops.
 */
export function directoryRedisOptions(o: { readonly connectTimeoutMs: number; readonly commandTimeoutMs: number; readonly name: string }): RedisOptions {
  return {
    lazyConnect: true,
    connectTimeout: o.connectTimeoutMs,
    commandTimeout: o.commandTimeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy: (attempt) => Math.min(100 * attempt, MAX_RECONNECT_DELAY_MS),
    connectionName: o.name,
    // disconnect() is only used to abandon a connection (failed start-up, close while down): no grace period.
    disconnectTimeout: 0,
  };
}

/**
 * Connects `client` and waits until it is ready, retrying (ioredis reconnects) until `timeoutMs` has passed.
 * On failure the client is disconnected for good — no reconnect timer survives — and the error names the
 * masked URL and the last cause (ECONNREFUSED, ETIMEDOUT, WRONGPASS, …).
 */
export function connectWithin(client: Redis, url: string, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let cause: Error | undefined;
    const onError = (err: Error) => void (cause = err);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const timer = setTimeout(() => {
      cleanup();
      client.disconnect();
      const why = cause ? `${cause.message}` : "no reply";
      reject(new Error(`cannot connect to Redis at ${maskRedisUrl(url)} within ${timeoutMs} ms: ${why}`, { cause }));
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
export async function quit(c: Redis, timeoutMs = QUIT_TIMEOUT_MS): Promise<void> {
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

/** ioredis prints "error" events nobody listens to; errors go to debug, an outage is logged once instead. */
export function logErrors(c: Redis, logger?: Logger): Redis {
  c.on("error", (err: Error) => logger?.debug({ err: { message: err.message } }, "directory store: Redis error"));
  return c;
}

/**
 * Watches connections that ioredis reconnects on its own. Logs an outage once (not every retry), and after any
 * connection comes back calls `restore` — deferred, because ioredis re-subscribes right after emitting "ready"
 * — one call at a time, again if another connection came back meanwhile. `restore` throws while a connection
 * is still down; the next "ready" retries. Returns a function that stops the logging (for a deliberate close).
 */
export function watchReconnects(clients: readonly Redis[], where: string, restore: () => Promise<void>, logger?: Logger): () => void {
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
        if (outage) logger?.info({ redis: where }, "directory store: Redis connection restored");
        outage = false;
      } catch (err) {
        logger?.debug({ err: { message: (err as Error).message } }, "directory store: not restored yet; retrying on the next reconnect");
      }
    } while (again && !stopped);
    running = false;
  }
  for (const c of clients) {
    c.on("close", () => {
      if (!outage && !stopped) logger?.warn({ redis: where }, "directory store: Redis connection lost; lookups answer from the in-process cache");
      outage = !stopped;
    });
    c.on("ready", () => void setImmediate(() => void (stopped || run())));
  }
  return () => void (stopped = true);
}

/**
 * One holder at a time across replicas: SET NX PX with a random token, released only by its holder (a Lua
 * compare-and-delete, so a lock that expired and was taken by another replica is not released by mistake).
 * Null when another replica holds it.
 */
export async function takeLock(client: Redis, key: string, ttlMs: number): Promise<{ release(): Promise<void> } | null> {
  const token = randomUUID();
  if ((await client.set(key, token, "PX", Math.ceil(ttlMs), "NX")) !== "OK") return null;
  return {
    release: async () => {
      await client.eval(RELEASE_SCRIPT, 1, key, token);
    },
  };
}
