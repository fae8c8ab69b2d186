import { keyspace } from "../redis/keys.js";
import type { SnapshotMeta } from "./types.js";

/** The hash tag of the keys a publish touches together (one Redis Cluster slot per key prefix). */
const SNAPSHOT_TAG = "directory";

/**
 * The Redis layout of the directory store, every name under one prefix `P`:
 * - `P{directory}:current`: JSON {@link SnapshotMeta} of the snapshot readers use; `P{directory}:seq`: a counter
 *   bumped with every change; `P{directory}:snap:<version>:orgs`: hash id → Organisation JSON;
 *   `P{directory}:snap:<version>:cnpj`: hash CNPJ or root → JSON id list. The publish and confirm scripts touch
 *   these together (the new snapshot's, the previous one's, `current` and `seq`), so they share a hash tag;
 * - `Pcache:<key>`, `Plock:<name>`: used one at a time, so spread over a cluster's nodes;
 * - pub/sub channel `Pchanged`, carrying `{"seq":n,"meta":{…}}`.
 */
export function redisKeys(prefix: string) {
  const space = keyspace(prefix);
  const snapshot = space.group(SNAPSHOT_TAG);
  return {
    current: snapshot.key("current"),
    seq: snapshot.key("seq"),
    /** What the flip script prefixes to `snap:<previous version>:orgs`: the previous snapshot's keys stay in the slot. */
    snapshotPrefix: snapshot.prefix,
    orgs: (version: string) => snapshot.key(`snap:${version}:orgs`),
    cnpj: (version: string) => snapshot.key(`snap:${version}:cnpj`),
    changed: space.key("changed"),
    cache: (key: string) => space.key(`cache:${key}`),
    lock: (name: string) => space.key(`lock:${name}`),
  };
}

/**
 * The only step of a publish that readers can observe, run atomically by Redis.
 * KEYS: current, seq, new orgs hash, new cnpj hash. ARGV: meta JSON, expected number of organisations, the
 * snapshot keys' prefix (`snapshotPrefix`, so the previous snapshot's keys, which the script names itself, are in
 * the slot of the declared ones), ms the previous snapshot stays readable, channel, new version.
 * Refuses (error reply) when the new orgs hash is not complete, e.g. because its keys expired meanwhile; then
 * makes the new keys permanent, retires the previous version's keys with a short TTL (readers that already
 * resolved it finish), names the new version `current`, and tells every replica.
 */
export const FLIP_SCRIPT = `
if redis.call('HLEN', KEYS[3]) ~= tonumber(ARGV[2]) then
  return redis.error_reply('ERR snapshot ' .. ARGV[6] .. ' is incomplete in Redis; not published')
end
redis.call('PERSIST', KEYS[3])
redis.call('PERSIST', KEYS[4])
local old = redis.call('GET', KEYS[1])
if old then
  local ok, prev = pcall(cjson.decode, old)
  if ok and type(prev) == 'table' and type(prev.version) == 'string' and prev.version ~= ARGV[6] then
    redis.call('PEXPIRE', ARGV[3] .. 'snap:' .. prev.version .. ':orgs', ARGV[4])
    redis.call('PEXPIRE', ARGV[3] .. 'snap:' .. prev.version .. ':cnpj', ARGV[4])
  end
end
redis.call('SET', KEYS[1], ARGV[1])
local seq = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[5], '{"seq":' .. seq .. ',"meta":' .. ARGV[1] .. '}')
return seq
`;

/**
 * Compare-and-set of `current` for a confirmation (HTTP 304). KEYS: current, seq. ARGV: the `current` value the
 * caller read, the new meta JSON, channel. Returns the new seq, or 0 when `current` changed meanwhile.
 */
export const CONFIRM_SCRIPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
local seq = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[3], '{"seq":' .. seq .. ',"meta":' .. ARGV[2] .. '}')
return seq
`;

/** A change as announced on the `changed` channel or read back from `current` and `seq`. */
export interface SnapshotChange {
  readonly seq: number;
  readonly meta: SnapshotMeta;
}

/** Parses a `changed` message; null when it is not one (the channel is shared by every replica). */
export function parseChange(message: string): SnapshotChange | null {
  const value = parseJson(message);
  if (typeof value !== "object" || value === null) return null;
  const { seq, meta } = value as { seq?: unknown; meta?: unknown };
  const parsed = parseSnapshotMeta(meta);
  return typeof seq === "number" && Number.isSafeInteger(seq) && parsed ? { seq, meta: parsed } : null;
}

/** Parses stored {@link SnapshotMeta} (written by another replica): unknown in, typed and frozen out, or null. */
export function parseSnapshotMeta(value: unknown): SnapshotMeta | null {
  if (typeof value === "string") value = parseJson(value);
  if (typeof value !== "object" || value === null) return null;
  const m = value as Record<string, unknown>;
  const nullableString = (v: unknown): v is string | null => v === null || typeof v === "string";
  if (typeof m.version !== "string" || !m.version || typeof m.fetchedAt !== "number" || !Number.isFinite(m.fetchedAt)) return null;
  if (!nullableString(m.etag) || !nullableString(m.lastModified) || typeof m.organisations !== "number" || typeof m.source !== "string") return null;
  return Object.freeze({ version: m.version, fetchedAt: m.fetchedAt, etag: m.etag, lastModified: m.lastModified, organisations: m.organisations, source: m.source });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
