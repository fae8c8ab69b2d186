import { hash } from "node:crypto";
import { readFileSync } from "node:fs";
import { LRUCache } from "lru-cache";
import type { AuthorizationServerConfig } from "../config/schema.js";
import { ConfigError } from "../errors.js";
import { createAsHttp } from "./as-http.js";
import { createDiscovery } from "./discovery.js";
import { createIntrospection, readAssertionKey } from "./introspection.js";
import { createJwtVerifier, looksLikeJws } from "./jwt.js";
import { rejected, type TokenOutcome } from "./types.js";

export interface TokenVerifierStats {
  hits: number;
  misses: number;
  /** Verifications and introspections actually performed (after single-flight). */
  verifications: number;
  introspections: number;
}

export interface TokenVerifier {
  /**
   * Verifies (or recalls) one bearer token. Never throws for a bad token: the outcome says why. `connection`
   * (the request's socket) remembers the last valid token seen on it, so a client repeating its token on a
   * kept-alive connection costs a string comparison instead of a SHA-256 and a cache look-up.
   */
  verify(token: string, connection?: object): Promise<TokenOutcome>;
  readonly stats: TokenVerifierStats;
  close(): Promise<void>;
}

/**
 * The token stage's memory (docs/architecture.md §Token binding): outcomes are remembered by the token's SHA-256
 * (never the token), positive ones until the token expires (capped by `cache.maxTtlMs`), failures that are facts
 * about the token for `cache.negativeTtlMs`; an unavailable authorization server is not remembered. Concurrent
 * requests with the same unseen token share one verification or introspection (single-flight).
 */
export function createTokenVerifier(config: AuthorizationServerConfig, deps: { now: () => number; configFile: string }): TokenVerifier {
  const read = (path: string, key: string) => {
    try {
      return readFileSync(path, "utf8");
    } catch (cause) {
      throw new ConfigError(deps.configFile, [{ path: `authorizationServer.${key}`, message: `cannot read ${path}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}` }]);
    }
  };
  const auth = config.introspection?.auth;
  const http = createAsHttp({
    timeoutMs: config.timeoutMs,
    maxResponseBytes: config.maxResponseBytes,
    ca: config.caFile === undefined ? undefined : read(config.caFile, "caFile"),
    clientCertificate: auth?.method === "tls_client_auth" ? { cert: read(auth.cert, "introspection.auth.cert"), key: read(auth.key, "introspection.auth.key") } : undefined,
  });
  let assertionKey;
  if (auth?.method === "private_key_jwt") {
    try {
      assertionKey = readAssertionKey(read(auth.key, "introspection.auth.key"));
    } catch (cause) {
      if (cause instanceof ConfigError) throw cause;
      throw new ConfigError(deps.configFile, [{ path: "authorizationServer.introspection.auth.key", message: `not a usable private key: ${(cause as Error).message}` }]);
    }
  }
  const discovery = createDiscovery({
    url: config.discoveryUrl ?? `${config.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`,
    issuer: config.issuer,
    http,
    maxAgeMs: config.jwks.cacheMaxAgeMs,
    now: deps.now,
  });
  const metadata = () => discovery.get();
  const stats: TokenVerifierStats = { hits: 0, misses: 0, verifications: 0, introspections: 0 };
  const verifyJwt = createJwtVerifier({ config, http, metadata, now: deps.now });
  const introspect = config.introspection ? createIntrospection({ config, introspection: config.introspection, http, metadata, now: deps.now, assertionKey }) : null;

  const cache = new LRUCache<string, { outcome: TokenOutcome; until: number }>({ max: config.cache.maxEntries });
  // Valid outcomes only, for exactly as long as the cache would hold them.
  const lastOnConnection = new WeakMap<object, { readonly token: string; readonly until: number; readonly result: Promise<TokenOutcome> }>();
  const remember = (connection: object | undefined, token: string, outcome: TokenOutcome, until: number) => {
    if (connection !== undefined && outcome.ok) lastOnConnection.set(connection, { token, until, result: Promise.resolve(outcome) });
  };
  const inFlight = new Map<string, Promise<TokenOutcome>>();

  async function evaluate(token: string): Promise<TokenOutcome> {
    const jws = looksLikeJws(token);
    if (config.format === "introspection" || (config.format === "auto" && !jws && introspect)) {
      stats.introspections++;
      return introspect!(token);
    }
    if (!jws) return rejected("TOKEN_MALFORMED", config.format === "jwt" ? "the token is not a JWS compact serialization (authorizationServer.format is jwt)" : "the token is not a JWT and no introspection endpoint is configured");
    stats.verifications++;
    return verifyJwt(token);
  }

  return {
    stats,
    verify(token, connection) {
      const now = deps.now();
      const last = connection === undefined ? undefined : lastOnConnection.get(connection);
      if (last !== undefined && now < last.until && last.token === token) {
        stats.hits++;
        return last.result;
      }
      // One-shot SHA-256 (no Hash object per request): the cache key, never the token itself.
      const key = hash("sha256", token, "base64url");
      const hit = cache.get(key);
      if (hit !== undefined) {
        if (now < hit.until) {
          stats.hits++;
          remember(connection, token, hit.outcome, hit.until);
          return Promise.resolve(hit.outcome);
        }
        cache.delete(key);
      }
      const pending = inFlight.get(key);
      if (pending) return pending;
      stats.misses++;
      const run = evaluate(token)
        .then((outcome) => {
          const until = outcome.ok ? outcome.until : outcome.cacheable ? deps.now() + config.cache.negativeTtlMs : 0;
          if (until > deps.now()) {
            cache.set(key, { outcome, until });
            remember(connection, token, outcome, until);
          }
          return outcome;
        })
        .finally(() => inFlight.delete(key));
      inFlight.set(key, run);
      return run;
    },
    close: () => http.close(),
  };
}
