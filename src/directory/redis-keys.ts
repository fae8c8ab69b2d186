import type { SnapshotMeta } from "./types.js";

/**
 * The Redis layout of the directory store, every name under one prefix:
 * - `current`: JSON {@link SnapshotMeta} of the snapshot readers use; `seq`: a counter bumped with every change;
 * - `snap:<version>:orgs`: hash id → Organisation JSON; `snap:<version>:cnpj`: hash CNPJ or root → JSON id list;
 * - `cache:<key>`, `lock:<name>`; pub/sub channel `changed`, carrying `{"seq":n,"meta":{…}}`.
 *
 * With Redis Cluster the prefix must carry a hash tag (e.g. `{ofb-edge}:`): the publish script touches the new
 * and the previous snapshot's keys in one step.
 */
export function redisKeys(prefix: string) {
  return {
    current: `${prefix}current`,
    seq: `${prefix}seq`,
    changed: `${prefix}changed`,
    orgs: (version: string) => `${prefix}snap:${version}:orgs`,
    cnpj: (version: string) => `${prefix}snap:${version}:cnpj`,
    cache: (key: string) => `${prefix}cache:${key}`,
    lock: (name: string) => `${prefix}lock:${name}`,
  };
}

/**
 * The only step of a publish that readers can observe, run atomically by Redis.
 * KEYS: current, seq, new orgs hash, new cnpj hash. ARGV: meta JSON, expected number of organisations, key
 * prefix, ms the previous snapshot stays readable, channel, new version.
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

/** Deletes a lock only when it still holds the caller's token. KEYS: lock. ARGV: token. */
export const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
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
