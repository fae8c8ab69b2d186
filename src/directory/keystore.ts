import { LRUCache } from "lru-cache";
import type { Dispatcher } from "undici";
import { x5tS256 } from "../pki/thumbprint.js";
import { exchange } from "../net/exchange.js";
import type { DirectoryStore } from "./types.js";

/**
 * Where a certificate sits in its software statement's keystore (status = which JWKS holds it, OFB DCR v2.1.0 §9.4).
 */
export type KeyStatus = "active" | "inactive" | "unregistered";

/** The keystore could not answer (timeout, refused, 5xx, not JSON, too large, malformed): nothing is cached. */
export class KeystoreUnavailableError extends Error {
  override readonly name = "KeystoreUnavailableError";
  readonly code = "DIRECTORY_KEYSTORE_UNAVAILABLE";
}

export interface KeystoreOptions {
  /** Keystore base URL; `<org>/<ss>/transport.jwks` is appended (a missing final `/` is added). */
  readonly baseUrl: string;
  readonly cache: Pick<DirectoryStore, "cacheGet" | "cacheSet">;
  /** How long the thumbprints of a known software statement are reused. */
  readonly ttlMs: number;
  /** How long "no JWKS at all" (an unknown software statement) is remembered. */
  readonly negativeTtlMs: number;
  /** Bound on each request, headers and body together. */
  readonly timeoutMs: number;
  /** Bound on each JWKS body. */
  readonly maxBytes: number;
  /** The product's outbound dispatcher (net/dispatcher.ts). */
  readonly dispatcher: Dispatcher;
  /** The injected clock for the in-process memo (ms since the epoch); default `Date.now`. */
  readonly now?: () => number;
  /** Software statements remembered in process (default 10,000). */
  readonly localCacheSize?: number;
}

export interface Keystore {
  keyStatus(organisationId: string, softwareStatementId: string, thumbprint: string): Promise<KeyStatus>;
}

/** The thumbprints of one software statement's transport keys, as cached. */
interface KeySets {
  readonly active: readonly string[];
  readonly inactive: readonly string[];
}

/** Org and software statement ids go into a URL path: only UUID-shaped text does (never raw certificate text). */
const ID = /^[0-9a-fA-F-]{36}$/;
/** RFC 7517 §4.7: `x5c` members are standard base64 (not base64url) of the DER certificate. */
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const CACHE_PREFIX = "keystore:";
/** Reverse index (thumbprint → software statement) read by `ofb-edge directory lookup`. */
export const THUMBPRINT_PREFIX = "thumbprint:";

/**
 * Is this certificate an active transport key of its software statement (docs/architecture.md, decision D6)? Reads
 * `<org>/<ss>/transport.jwks` and `<org>/<ss>/inactive/transport.jwks` lazily (OFB DCR ID3,
 * `software_jwks_transport_uri`), caches the thumbprint sets per software statement, and fetches once for concurrent
 * callers.
 */
export function createKeystore(options: KeystoreOptions): Keystore {
  const base = validateBaseUrl(options.baseUrl);
  for (const name of ["ttlMs", "negativeTtlMs", "timeoutMs", "maxBytes"] as const) {
    const value = options[name];
    if (!Number.isSafeInteger(value) || value <= 0) throw new TypeError(`keystore option ${name} must be a positive integer, got ${String(value)}`);
  }
  const pending = new Map<string, Promise<KeySets>>();
  const now = options.now ?? Date.now;
  // In front of the shared cache: a new connection from a known participant costs no Redis round trip, and
  // keys already known keep answering during a Redis outage. Entries expire like the shared ones.
  const local = new LRUCache<string, { readonly sets: KeySets; readonly expires: number }>({ max: options.localCacheSize ?? 10_000 });

  function keySets(org: string, ss: string): Promise<KeySets> {
    const key = `${org}/${ss}`;
    const memo = local.get(key);
    if (memo && memo.expires > now()) return Promise.resolve(memo.sets);
    let inFlight = pending.get(key);
    if (!inFlight) {
      inFlight = load(org, ss).finally(() => pending.delete(key));
      pending.set(key, inFlight);
    }
    return inFlight;
  }

  function ttlOf(sets: KeySets): number {
    return sets.active.length === 0 && sets.inactive.length === 0 ? options.negativeTtlMs : options.ttlMs;
  }

  async function load(org: string, ss: string): Promise<KeySets> {
    const cacheKey = `${CACHE_PREFIX}${org}:${ss}`;
    // The cache only saves requests: when the store cannot be read or written, the keystore is asked.
    const cached = decodeCached(await options.cache.cacheGet(cacheKey).catch(() => null));
    if (cached) {
      local.set(`${org}/${ss}`, { sets: cached, expires: now() + ttlOf(cached) });
      return cached;
    }
    const [active, inactive] = await Promise.all([
      fetchThumbprints(`${org}/${ss}/transport.jwks`),
      fetchThumbprints(`${org}/${ss}/inactive/transport.jwks`),
    ]);
    const sets: KeySets = { active: active ?? [], inactive: inactive ?? [] };
    // Both 404: the software statement is unknown to the keystore; remember that only briefly.
    const ttl = ttlOf(sets);
    local.set(`${org}/${ss}`, { sets, expires: now() + ttl });
    await options.cache.cacheSet(cacheKey, JSON.stringify(sets), ttl).catch(() => undefined);
    // Which software statement a thumbprint belongs to, for `ofb-edge directory lookup <x5t#S256>`.
    const owners = [...sets.active.map((t) => [t, "active"] as const), ...sets.inactive.map((t) => [t, "inactive"] as const)];
    await Promise.all(
      owners.map(([t, status]) =>
        options.cache.cacheSet(`${THUMBPRINT_PREFIX}${t}`, JSON.stringify({ organisationId: org, softwareStatementId: ss, status }), options.ttlMs).catch(() => undefined),
      ),
    );
    return sets;
  }

  /** The thumbprints of one JWKS, or null when it does not exist (404). */
  async function fetchThumbprints(path: string): Promise<string[] | null> {
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
    const body = res.body.toString("utf8");
    const thumbprints = parseJwks(body);
    if (thumbprints === null) throw new KeystoreUnavailableError(`keystore unavailable: ${where}: not a JWK Set (RFC 7517 §5)`);
    return thumbprints;
  }

  return {
    async keyStatus(organisationId, softwareStatementId, thumbprint) {
      if (!ID.test(organisationId) || !ID.test(softwareStatementId)) return "unregistered";
      const sets = await keySets(organisationId.toLowerCase(), softwareStatementId.toLowerCase());
      if (sets.active.includes(thumbprint)) return "active";
      if (sets.inactive.includes(thumbprint)) return "inactive";
      return "unregistered";
    },
  };
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

/**
 * The `x5t#S256` of every key of a JWK Set, computed from `x5c[0]` (our reading: no OFB text guarantees `kid`): `kid`
 * and `x5t#256`/`x5t#S256` members are published by the participant's tooling and never trusted. Keys without a
 * usable `x5c[0]` are skipped. Null when the body is not a JWK Set.
 */
function parseJwks(body: string): string[] | null {
  let jwks: unknown;
  try {
    jwks = JSON.parse(body);
  } catch {
    return null;
  }
  if (typeof jwks !== "object" || jwks === null || !Array.isArray((jwks as { keys?: unknown }).keys)) return null;
  const thumbprints: string[] = [];
  for (const jwk of (jwks as { keys: unknown[] }).keys) {
    const x5c = typeof jwk === "object" && jwk !== null ? (jwk as { x5c?: unknown }).x5c : undefined;
    const first: unknown = Array.isArray(x5c) ? x5c[0] : undefined;
    if (typeof first !== "string" || !BASE64.test(first)) continue;
    thumbprints.push(x5tS256(Buffer.from(first, "base64")));
  }
  return thumbprints;
}

/** A cached entry, or null when absent or unreadable (then it is fetched again). */
function decodeCached(value: string | null): KeySets | null {
  if (value === null) return null;
  try {
    const parsed = JSON.parse(value) as Partial<KeySets>;
    const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === "string");
    return strings(parsed.active) && strings(parsed.inactive) ? { active: parsed.active, inactive: parsed.inactive } : null;
  } catch {
    return null;
  }
}

