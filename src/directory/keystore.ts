import type { JWK } from "jose";
import { LRUCache } from "lru-cache";
import type { Dispatcher } from "undici";
import { exchange } from "../net/exchange.js";
import { decodeCached, isStringArray, jwksKeys, kidsOf, signatureKeys, transportThumbprints } from "./keystore-jwks.js";
import type { DirectoryStore } from "./types.js";

/**
 * Where a certificate sits in its software statement's keystore (status = which JWKS holds it, OFB DCR v2.1.0 §9.4).
 */
export type KeyStatus = "active" | "inactive" | "unregistered";

/**
 * An organisation's application (signing) key named by a message's `kid`: an active key (its public JWK), one
 * published only in `inactive/application.jwks`, or none (OFB security profile: verify "exclusively" with the keys
 * the Directory publishes).
 */
export type ApplicationKey = { readonly status: "active"; readonly jwk: JWK } | { readonly status: "inactive" } | { readonly status: "unknown" };

/** The keystore could not answer (timeout, refused, 5xx, not JSON, too large, malformed): nothing is cached. */
export class KeystoreUnavailableError extends Error {
  override readonly name = "KeystoreUnavailableError";
  readonly code = "DIRECTORY_KEYSTORE_UNAVAILABLE";
}

export interface KeystoreOptions {
  /** Keystore base URL; `<org>/<ss>/transport.jwks` and `<org>/application.jwks` are appended (a missing final `/` is added). */
  readonly baseUrl: string;
  readonly cache: Pick<DirectoryStore, "cacheGet" | "cacheSet">;
  /** How long the keys of a known software statement or organisation are reused. */
  readonly ttlMs: number;
  /** How long "no JWKS at all" (an unknown software statement or organisation) is remembered. */
  readonly negativeTtlMs: number;
  /** Bound on each request, headers and body together. */
  readonly timeoutMs: number;
  /** Bound on each JWKS body. */
  readonly maxBytes: number;
  /** The product's outbound dispatcher (net/dispatcher.ts). */
  readonly dispatcher: Dispatcher;
  /** The injected clock for the in-process memo (ms since the epoch); default `Date.now`. */
  readonly now?: () => number;
  /** Software statements and organisations remembered in process (default 10,000 each). */
  readonly localCacheSize?: number;
  /**
   * An unknown application `kid` reloads the organisation's keys once this long after they were last read (a key
   * just added in the Directory is found without waiting for `ttlMs`, and unknown kids cannot force a fetch each).
   * Default 30 s.
   */
  readonly unknownKidCooldownMs?: number;
}

export interface Keystore {
  keyStatus(organisationId: string, softwareStatementId: string, thumbprint: string): Promise<KeyStatus>;
  /** The organisation's application key `kid`, from `<org>/application.jwks` and `<org>/inactive/application.jwks`. */
  applicationKey(organisationId: string, kid: string): Promise<ApplicationKey>;
}

/** The thumbprints of one software statement's transport keys, as cached. */
interface KeySets {
  readonly active: readonly string[];
  readonly inactive: readonly string[];
}

/** One organisation's application keys, as cached: the active signature keys by kid, and the inactive kids. */
interface ApplicationKeys {
  readonly active: Readonly<Record<string, JWK>>;
  readonly inactive: readonly string[];
}

/** Org and software statement ids go into a URL path: only UUID-shaped text does (never raw certificate text). */
const ID = /^[0-9a-fA-F-]{36}$/;
const CACHE_PREFIX = "keystore:";
const APPLICATION_PREFIX = "keystore-application:";
/** Reverse index (thumbprint → software statement) read by `ofb-edge directory lookup`. */
export const THUMBPRINT_PREFIX = "thumbprint:";

/**
 * The Directory keystore (OFB Directory, keystore.directory.openbankingbrasil.org.br): is this certificate an active
 * transport key of its software statement (`<org>/<ss>/transport.jwks` and its `inactive/` twin)? Signed messages:
 * which application key of an organisation is this `kid` (`<org>/application.jwks` and its `inactive/` twin)? Each
 * set is read lazily, cached in process and in the shared cache, and fetched once for concurrent callers.
 */
export function createKeystore(options: KeystoreOptions): Keystore {
  const base = validateBaseUrl(options.baseUrl);
  for (const name of ["ttlMs", "negativeTtlMs", "timeoutMs", "maxBytes"] as const) {
    const value = options[name];
    if (!Number.isSafeInteger(value) || value <= 0) throw new TypeError(`keystore option ${name} must be a positive integer, got ${String(value)}`);
  }
  const cooldownMs = options.unknownKidCooldownMs ?? 30_000;
  if (!Number.isSafeInteger(cooldownMs) || cooldownMs < 0) throw new TypeError(`keystore option unknownKidCooldownMs must be a non-negative integer, got ${String(cooldownMs)}`);
  const now = options.now ?? Date.now;
  const fetchKeys = (path: string) => fetchJwks(base, path, options);

  const transport = createCachedSets<KeySets>({
    ...options,
    now,
    cachePrefix: CACHE_PREFIX,
    empty: (s) => s.active.length === 0 && s.inactive.length === 0,
    decode: (v) => decodeCached(v, (p): p is KeySets => isStringArray((p as KeySets | null)?.active) && isStringArray((p as KeySets).inactive)),
    async load(key) {
      const [active, inactive] = await Promise.all([fetchKeys(`${key}/transport.jwks`), fetchKeys(`${key}/inactive/transport.jwks`)]);
      return { active: transportThumbprints(active ?? []), inactive: transportThumbprints(inactive ?? []) };
    },
    async loaded(key, sets) {
      // Which software statement a thumbprint belongs to, for `ofb-edge directory lookup <x5t#S256>`.
      const [org, ss] = key.split("/");
      const owners = [...sets.active.map((t) => [t, "active"] as const), ...sets.inactive.map((t) => [t, "inactive"] as const)];
      await Promise.all(
        owners.map(([t, status]) =>
          options.cache.cacheSet(`${THUMBPRINT_PREFIX}${t}`, JSON.stringify({ organisationId: org, softwareStatementId: ss, status }), options.ttlMs).catch(() => undefined),
        ),
      );
    },
  });

  const application = createCachedSets<ApplicationKeys>({
    ...options,
    now,
    cachePrefix: APPLICATION_PREFIX,
    empty: (s) => Object.keys(s.active).length === 0 && s.inactive.length === 0,
    decode: (v) => decodeCached(v, (p): p is ApplicationKeys => typeof (p as ApplicationKeys | null)?.active === "object" && (p as ApplicationKeys).active !== null && isStringArray((p as ApplicationKeys).inactive)),
    async load(org) {
      const [active, inactive] = await Promise.all([fetchKeys(`${org}/application.jwks`), fetchKeys(`${org}/inactive/application.jwks`)]);
      return { active: signatureKeys(active ?? []), inactive: kidsOf(inactive ?? []) };
    },
  });

  return {
    async keyStatus(organisationId, softwareStatementId, thumbprint) {
      if (!ID.test(organisationId) || !ID.test(softwareStatementId)) return "unregistered";
      const { sets } = await transport.get(`${organisationId.toLowerCase()}/${softwareStatementId.toLowerCase()}`);
      if (sets.active.includes(thumbprint)) return "active";
      if (sets.inactive.includes(thumbprint)) return "inactive";
      return "unregistered";
    },
    async applicationKey(organisationId, kid) {
      if (!ID.test(organisationId)) return { status: "unknown" };
      const org = organisationId.toLowerCase();
      let read = await application.get(org);
      // A kid the cached set does not know may be a key added since: read again, at most once per cooldown.
      if (!Object.hasOwn(read.sets.active, kid) && !read.sets.inactive.includes(kid) && now() - read.at >= cooldownMs) read = await application.get(org, true);
      const { sets } = read;
      if (Object.hasOwn(sets.active, kid)) return { status: "active", jwk: sets.active[kid]! };
      return sets.inactive.includes(kid) ? { status: "inactive" } : { status: "unknown" };
    },
  };
}

/**
 * One kind of keystore entry (by software statement or by organisation), cached in process in front of the shared
 * cache: a new connection from a known participant costs no Redis round trip, and keys already known keep
 * answering during a Redis outage. Entries expire like the shared ones; "nothing published" is remembered only for
 * `negativeTtlMs`. `get(key, true)` skips both caches (a refetch), still once for concurrent callers.
 */
function createCachedSets<T>(o: {
  readonly cache: KeystoreOptions["cache"];
  readonly ttlMs: number;
  readonly negativeTtlMs: number;
  readonly now: () => number;
  readonly localCacheSize?: number;
  readonly cachePrefix: string;
  readonly empty: (sets: T) => boolean;
  readonly decode: (value: string | null) => T | null;
  readonly load: (key: string) => Promise<T>;
  readonly loaded?: (key: string, sets: T) => Promise<void>;
}): { get(key: string, refetch?: boolean): Promise<{ readonly sets: T; readonly at: number }> } {
  type Entry = { readonly sets: T; readonly at: number; readonly expires: number };
  const local = new LRUCache<string, Entry>({ max: o.localCacheSize ?? 10_000 });
  const pending = new Map<string, Promise<Entry>>();
  const ttlOf = (sets: T) => (o.empty(sets) ? o.negativeTtlMs : o.ttlMs);
  const remember = (key: string, sets: T): Entry => {
    const entry = { sets, at: o.now(), expires: o.now() + ttlOf(sets) };
    local.set(key, entry);
    return entry;
  };

  async function fill(key: string, refetch: boolean): Promise<Entry> {
    const cacheKey = `${o.cachePrefix}${key.replace("/", ":")}`;
    // The shared cache only saves requests: when the store cannot be read or written, the keystore is asked.
    const cached = refetch ? null : o.decode(await o.cache.cacheGet(cacheKey).catch(() => null));
    if (cached) return remember(key, cached);
    const sets = await o.load(key);
    const entry = remember(key, sets);
    await o.cache.cacheSet(cacheKey, JSON.stringify(sets), ttlOf(sets)).catch(() => undefined);
    await o.loaded?.(key, sets);
    return entry;
  }

  return {
    get(key, refetch = false) {
      const memo = local.get(key);
      if (!refetch && memo && memo.expires > o.now()) return Promise.resolve(memo);
      const flight = `${refetch ? "!" : ""}${key}`;
      let inFlight = pending.get(flight);
      if (!inFlight) {
        inFlight = fill(key, refetch).finally(() => pending.delete(flight));
        pending.set(flight, inFlight);
      }
      return inFlight;
    },
  };
}

/** The keys of one JWK Set, or null when it does not exist (404). */
async function fetchJwks(base: URL, path: string, options: KeystoreOptions): Promise<unknown[] | null> {
  const url = new URL(path, base);
  const where = `GET ${url.pathname}`;
  let res;
  try {
    res = await exchange(url, {
      dispatcher: options.dispatcher,
      headers: { accept: "application/jwk-set+json, application/json" },
      timeoutMs: options.timeoutMs,
      maxBytes: options.maxBytes,
      limitName: "keystore.maxBytes",
      where,
    });
  } catch (err) {
    throw new KeystoreUnavailableError(`keystore unavailable: ${(err as Error).message}`, { cause: err });
  }
  if (res.status === 404) return null;
  if (res.status !== 200) throw new KeystoreUnavailableError(`keystore unavailable: ${where}: HTTP ${res.status}`);
  // The body must be a JWK Set; the Content-Type is not relied on, since what the Directory's object store
  // sends for `.jwks` files is not published (unconfirmed) and a JSON body is decisive either way.
  const keys = jwksKeys(res.body.toString("utf8"));
  if (keys === null) throw new KeystoreUnavailableError(`keystore unavailable: ${where}: not a JWK Set (RFC 7517 §5)`);
  return keys;
}

function validateBaseUrl(baseUrl: string): URL {
  let url: URL;
  try {
    url = new URL(baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`);
  } catch {
    throw new TypeError("keystore baseUrl is not a URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new TypeError(`keystore baseUrl must be http(s), got ${url.protocol}`);
  return url;
}
