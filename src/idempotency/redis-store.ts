import { createHash, randomUUID } from "node:crypto";
import type { Logger } from "../log/logger.js";
import type { RedisClient } from "../redis/client.js";
import { openRedisConnection } from "../redis/connection.js";
import { keyspace } from "../redis/keys.js";
import type { RedisTarget } from "../redis/target.js";
import { decodeResponse, encodeResponse, type ClaimOutcome, type IdempotencyStore } from "./store.js";

/**
 * One key per organisation and idempotency key, a hash: `fp` (the request fingerprint), `owner` (the token of the
 * request in flight) and, once completed, `response`. A claim is one script over that one key, so it is atomic on
 * every topology and needs no hash tag (a single-key script always runs on the node of its key's slot).
 * KEYS: record. ARGV: fingerprint, token, claim TTL (ms).
 */
const CLAIM = `
local fp = redis.call('HGET', KEYS[1], 'fp')
if not fp then
  redis.call('HSET', KEYS[1], 'fp', ARGV[1], 'owner', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {'claimed'}
end
if fp ~= ARGV[1] then return {'conflict'} end
local response = redis.call('HGET', KEYS[1], 'response')
if response then return {'replay', response} end
return {'in-flight'}
`;

/** Stores the response only while the caller's token still holds the key. KEYS: record. ARGV: token, response, window (ms). */
const COMPLETE = `
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], 'owner')
redis.call('HSET', KEYS[1], 'response', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

/** Frees the key only for the token that holds it. KEYS: record. ARGV: token. */
const RELEASE = `
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

type Scripted = RedisClient & {
  idemClaimBuffer(key: string, fingerprint: string, token: string, ttl: number): Promise<Buffer[]>;
  idemComplete(key: string, token: string, response: Buffer, window: number): Promise<number>;
  idemRelease(key: string, token: string): Promise<number>;
};

export interface RedisIdempotencyStoreOptions {
  readonly redis: RedisTarget;
  readonly keyPrefix: string;
  readonly connectTimeoutMs: number;
  /** Replicas that must acknowledge a claim and a completion (Redis WAIT) before they count; 0: none. */
  readonly replicaAcks: number;
  readonly logger?: Logger;
  /** A claim or completion not acknowledged by `replicaAcks` replicas in time (forwarded anyway). */
  readonly onUnreplicated?: () => void;
}

/** The bound on one command's reply unless `redis.commandTimeoutMs` sets one for every user. */
const COMMAND_TIMEOUT_MS = 2_000;
/** How long a claim waits for its replica acknowledgements (WAIT blocks the shared connection meanwhile). */
const WAIT_MS = 250;
/** After replicas failed to acknowledge in time, how long claims do not wait for them (a replica that is down). */
const WAIT_BACKOFF_MS = 5_000;

/**
 * The {@link IdempotencyStore} every replica shares, on any Redis topology. With `replicaAcks`, a claim and a
 * completion are followed by `WAIT` on the same connection (Redis WAIT: the replicas acknowledged every write this
 * connection made): a Sentinel failover promotes a replica that already knows the key, so a retry after the
 * failover is replayed or told the first is in flight — never forwarded a second time. While replicas do not
 * acknowledge in time (one is down), claims stop waiting for five seconds at a time, each counted.
 */
export async function createRedisIdempotencyStore(o: RedisIdempotencyStoreOptions): Promise<IdempotencyStore> {
  const space = keyspace(o.keyPrefix);
  const redis = await openRedisConnection(o.redis, {
    user: "idempotency store",
    name: "ofb-edge-idempotency",
    connectTimeoutMs: o.connectTimeoutMs,
    commandTimeoutMs: o.redis.commandTimeoutMs ?? COMMAND_TIMEOUT_MS,
    subscriber: false,
    whileDown: "requests that need a key claimed answer 503 IDEMPOTENCY_UNAVAILABLE",
    ...(o.logger && { logger: o.logger }),
  });
  const client = redis.client as Scripted;
  client.defineCommand("idemClaim", { numberOfKeys: 1, lua: CLAIM });
  client.defineCommand("idemComplete", { numberOfKeys: 1, lua: COMPLETE });
  client.defineCommand("idemRelease", { numberOfKeys: 1, lua: RELEASE });

  // The organisation id is a UUID; the key is the client's text, hashed so that any byte of it is safe in a key name.
  const recordKey = (organisation: string, key: string) => space.key(`idem:${organisation.toLowerCase()}:${createHash("sha256").update(key).digest("base64url")}`);
  let skipWaitUntil = 0;

  /** Runs a script, then WAIT on the same connection when replicas must acknowledge it; returns the script's reply. */
  async function replicated<T>(run: (batch: Scripted) => unknown): Promise<T> {
    if (o.replicaAcks === 0 || Date.now() < skipWaitUntil) {
      if (o.replicaAcks > 0) o.onUnreplicated?.();
      return (await run(client)) as T;
    }
    const batch = client.pipeline();
    run(batch as unknown as Scripted);
    batch.wait(o.replicaAcks, WAIT_MS);
    const results = (await batch.exec()) ?? [];
    const [[err, reply] = [null, null], [waitErr, acks] = [null, 0]] = results;
    if (err) throw err;
    if (waitErr || (acks as number) < o.replicaAcks) {
      skipWaitUntil = Date.now() + WAIT_BACKOFF_MS;
      o.onUnreplicated?.();
      o.logger?.warn({ kind: "idempotency", acks, wanted: o.replicaAcks, err: waitErr ? { message: waitErr.message } : undefined }, "idempotency store: replicas did not acknowledge a write in time");
    }
    return reply as T;
  }

  return {
    async claim(organisation, key, fingerprint, claimTtlMs): Promise<ClaimOutcome> {
      const token = randomUUID();
      const reply = await replicated<Buffer[]>((c) => c.idemClaimBuffer(recordKey(organisation, key), fingerprint, token, claimTtlMs));
      const kind = reply[0]?.toString("latin1");
      if (kind === "claimed") return { kind, token };
      if (kind === "conflict" || kind === "in-flight") return { kind };
      if (kind === "replay" && reply[1]) return { kind, response: decodeResponse(reply[1]) };
      throw new Error(`idempotency store: unexpected claim reply '${kind}'`);
    },
    async complete(organisation, key, token, response, windowMs) {
      return (await replicated<number>((c) => c.idemComplete(recordKey(organisation, key), token, encodeResponse(response), windowMs))) === 1;
    },
    async release(organisation, key, token) {
      await client.idemRelease(recordKey(organisation, key), token);
    },
    reachable: () => redis.reachable(),
    close: () => redis.close(),
  };
}
