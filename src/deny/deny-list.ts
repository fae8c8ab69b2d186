import type { VerifiedClient } from "../connection/peer-state.js";
import type { Logger } from "../log/logger.js";
import { exec } from "../redis/client.js";
import { openRedisConnection } from "../redis/connection.js";
import { keyspace } from "../redis/keys.js";
import { standaloneTarget, type RedisTarget } from "../redis/target.js";

/**
 * What an entry names: a certificate (`x5t#S256`), an organisation or a software statement (docs/architecture.md
 * §Deny list).
 */
export type DenyKind = "thumbprint" | "organisation" | "software-statement";

export interface DenyEntry {
  readonly kind: DenyKind;
  /** Normalised: a thumbprint as base64url, ids in lower case. */
  readonly value: string;
  readonly reason: string;
  readonly addedAt: string;
  /** ISO 8601, or null for no expiry. */
  readonly expiresAt: string | null;
}

export interface DenyList {
  /** The entry denying this client now, if any: O(1), synchronous, per request (so open connections are covered). */
  match(client: VerifiedClient, now: number): DenyEntry | null;
  add(entry: DenyEntry): Promise<void>;
  /** Whether an entry was removed. */
  remove(kind: DenyKind, value: string): Promise<boolean>;
  list(): Promise<DenyEntry[]>;
  /** Entries this replica currently applies. */
  size(): number;
  /** Whether Redis is reachable (changes arrive); while not, the last list read keeps applying. */
  reachable(): boolean;
  close(): Promise<void>;
}

const KINDS: readonly DenyKind[] = ["thumbprint", "organisation", "software-statement"];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Normalises what an operator typed: a thumbprint as RFC 8705 base64url or as SHA-256 hex (with or without
 * colons); organisation and software statement ids as UUIDs. Throws with the rule broken.
 */
export function normaliseDenyValue(kind: DenyKind, raw: string): string {
  const v = raw.trim();
  if (kind === "thumbprint") {
    if (/^[A-Za-z0-9_-]{43}$/.test(v)) return v;
    const hex = v.replace(/:/g, "");
    if (/^[0-9a-fA-F]{64}$/.test(hex)) return Buffer.from(hex, "hex").toString("base64url");
    throw new Error("a thumbprint is the certificate's x5t#S256 (43 base64url characters) or its SHA-256 in hex");
  }
  const id = v.toLowerCase();
  if (!UUID.test(id)) throw new Error(`an ${kind === "organisation" ? "organisation" : "software statement"} id is a UUID`);
  return id;
}

function parseEntry(field: string, json: string): DenyEntry | null {
  try {
    const e = JSON.parse(json) as Partial<DenyEntry>;
    const kind = KINDS.find((k) => field.startsWith(`${k}:`));
    if (!kind || e.kind !== kind || typeof e.value !== "string" || field !== `${kind}:${e.value}` || typeof e.reason !== "string") return null;
    return { kind, value: e.value, reason: e.reason, addedAt: String(e.addedAt ?? ""), expiresAt: typeof e.expiresAt === "string" ? e.expiresAt : null };
  } catch {
    return null;
  }
}

/** Options of {@link openRedisDenyList}. */
export interface RedisDenyListOptions {
  /** One standalone Redis; or `redis`, any topology as the `redis` configuration section describes it. */
  readonly url?: string;
  readonly redis?: RedisTarget;
  readonly keyPrefix: string;
  /** How long opening waits for Redis (retrying) before it rejects. */
  readonly connectTimeoutMs: number;
  readonly logger?: Logger;
  /** The safety-net re-read interval (default 30 s). */
  readonly refreshMs?: number;
  /** False for a one-shot writer (the CLI): no subscriber, no re-reads. */
  readonly subscribe?: boolean;
}

/** The bound on one command's reply unless `redis.commandTimeoutMs` sets one for every user. */
const COMMAND_TIMEOUT_MS = 2_000;

/**
 * The deny list in Redis, shared by every replica: a hash `<prefix>deny` (field `<kind>:<value>` → entry JSON)
 * and a pub/sub channel `<prefix>deny:changed`. Each replica holds the whole list in memory (it is small) and
 * re-reads it on every change message, after a reconnect, and every `refreshMs` as a safety net, so a change
 * applies everywhere within about a second — to requests on connections already open too, since `match` runs
 * per request. Every transaction names the one hash (with a `PUBLISH`), so it works alike on every topology.
 */
export async function openRedisDenyList(o: RedisDenyListOptions): Promise<DenyList> {
  const space = keyspace(o.keyPrefix);
  const key = space.key("deny");
  const channel = space.key("deny:changed");
  if ((o.url === undefined) === (o.redis === undefined)) throw new TypeError("give exactly one of url (one standalone Redis) and redis (any topology)");
  const target = o.redis ?? standaloneTarget(o.url!, o.connectTimeoutMs);
  const subscribe = o.subscribe !== false;
  const redis = await openRedisConnection(target, {
    user: "deny list",
    name: "ofb-edge-deny",
    connectTimeoutMs: o.connectTimeoutMs,
    commandTimeoutMs: target.commandTimeoutMs ?? COMMAND_TIMEOUT_MS,
    subscriber: subscribe,
    whileDown: "the last list read keeps applying",
    ...(o.logger && { logger: o.logger }),
  });
  const { client } = redis;
  let byKey = new Map<string, DenyEntry>();

  async function reload(): Promise<void> {
    const all = await client.hgetall(key);
    const next = new Map<string, DenyEntry>();
    for (const [field, json] of Object.entries(all)) {
      const entry = parseEntry(field, json);
      if (entry) next.set(field, entry);
      else o.logger?.warn({ kind: "deny", field }, "deny list: ignored a malformed entry");
    }
    byKey = next;
  }

  try {
    if (subscribe) {
      await redis.subscribe(channel, () => void reload().catch((err: Error) => o.logger?.warn({ kind: "deny", err: { message: err.message } }, "deny list: reload failed")));
    }
    await reload();
  } catch (err) {
    await redis.close();
    throw new Error(`cannot open the deny list on Redis at ${redis.where}: ${(err as Error).message}`, { cause: err });
  }
  if (subscribe) redis.onRestored(reload);
  const timer = subscribe ? setInterval(() => void reload().catch(() => undefined), o.refreshMs ?? 30_000) : null;
  timer?.unref();

  // A client's three look-up keys, built once per verified certificate rather than per request.
  const keys = new WeakMap<VerifiedClient, readonly [string, string, string]>();
  const keysOf = (client: VerifiedClient) => {
    let k = keys.get(client);
    if (k === undefined) {
      k = [`thumbprint:${client.thumbprint}`, `organisation:${client.identity.organisationId.toLowerCase()}`, `software-statement:${client.identity.softwareStatementId.toLowerCase()}`];
      keys.set(client, k);
    }
    return k;
  };
  const active = (e: DenyEntry | undefined, now: number) => (e !== undefined && (e.expiresAt === null || Date.parse(e.expiresAt) > now) ? e : null);

  return {
    match(client, now) {
      if (byKey.size === 0) return null;
      const [thumbprint, organisation, softwareStatement] = keysOf(client);
      return active(byKey.get(thumbprint), now) ?? active(byKey.get(organisation), now) ?? active(byKey.get(softwareStatement), now);
    },
    async add(entry) {
      await exec(client.multi().hset(key, `${entry.kind}:${entry.value}`, JSON.stringify(entry)).publish(channel, "add"));
    },
    async remove(kind, value) {
      const [removed] = await exec(client.multi().hdel(key, `${kind}:${value}`).publish(channel, "remove"));
      return removed === 1;
    },
    async list() {
      await reload();
      return [...byKey.values()];
    },
    size: () => byKey.size,
    reachable: () => redis.reachable(),
    async close() {
      if (timer) clearInterval(timer);
      await redis.close();
    },
  };
}
