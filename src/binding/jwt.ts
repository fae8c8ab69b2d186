import { createLocalJWKSet, createRemoteJWKSet, customFetch, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from "jose";
import type { AuthorizationServerConfig } from "../config/schema.js";
import { AuthorizationServerUnavailableError, type AsHttp } from "./as-http.js";
import { readConfirmation } from "./cnf.js";
import type { AsMetadata } from "./discovery.js";
import { rejected, scopesOf, type TokenOutcome } from "./types.js";

/** JWS compact serialization shape (RFC 7515 §7.1): three base64url parts; the signature may be empty (`alg: none`). */
export function looksLikeJws(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

export interface JwtVerifierOptions {
  readonly config: AuthorizationServerConfig;
  readonly http: AsHttp;
  readonly metadata: () => Promise<AsMetadata>;
  readonly now: () => number;
}

/**
 * JWT access tokens (RFC 9068 shape) verified with jose against the authorization server's JWK Set: an explicit
 * algorithm list, the configured `iss`, optional `aud`, `exp` required, `exp`/`nbf` with the configured skew,
 * on the injected clock. Keys come from jose's remote JWK Set (cool-down, refetch on an unknown `kid`); when the
 * set cannot be refetched, the last keys it held keep verifying (docs/architecture.md §Token binding).
 */
export function createJwtVerifier(options: JwtVerifierOptions) {
  const { config } = options;
  let remote: ReturnType<typeof createRemoteJWKSet> | undefined;
  let failedAt = Number.NEGATIVE_INFINITY;

  async function remoteSet() {
    if (remote) return remote;
    const uri = config.jwksUri ?? (await options.metadata()).jwksUri;
    if (!uri) throw new AuthorizationServerUnavailableError("the discovery document has no jwks_uri");
    remote ??= createRemoteJWKSet(new URL(uri), {
      cooldownDuration: config.jwks.cooldownMs,
      cacheMaxAge: config.jwks.cacheMaxAgeMs,
      timeoutDuration: config.timeoutMs,
      [customFetch]: options.http.fetchForJose,
    });
    return remote;
  }

  const getKey: JWTVerifyGetKey = async (header, token) => {
    const set = await remoteSet();
    const known = set.jwks();
    // After a failed refetch, the last known keys answer for one cool-down before the network is tried again,
    // so an outage costs one time-out per cool-down, not one per request.
    if (known && !set.fresh && Date.now() - failedAt < config.jwks.cooldownMs) return createLocalJWKSet(known)(header, token);
    try {
      return await set(header, token);
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys || err instanceof errors.JOSENotSupported) throw err;
      failedAt = Date.now();
      if (known) return createLocalJWKSet(known)(header, token);
      throw new AuthorizationServerUnavailableError(`authorization server unavailable: JWK Set: ${(err as Error).message}`, { cause: err });
    }
  };

  return async function verifyJwt(token: string): Promise<TokenOutcome> {
    const now = options.now();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, getKey, {
        algorithms: [...config.algorithms],
        issuer: config.issuer,
        ...(config.audience !== undefined ? { audience: config.audience } : {}),
        clockTolerance: config.clockSkewSeconds,
        currentDate: new Date(now),
        requiredClaims: ["exp"],
      }));
    } catch (err) {
      return outcomeOf(err);
    }
    const { scope, client_id: clientId, sub } = payload as JWTPayload & { scope?: unknown; client_id?: unknown };
    if (scope !== undefined && typeof scope !== "string") return rejected("TOKEN_CLAIMS_INVALID", "scope is not a string (RFC 9068 §2.2.3)");
    if (clientId !== undefined && typeof clientId !== "string") return rejected("TOKEN_CLAIMS_INVALID", "client_id is not a string (RFC 9068 §2.2)");
    const exp = payload.exp!;
    return {
      ok: true,
      token: { source: "jwt", clientId, sub, scope, scopes: scopesOf(scope), exp, confirmation: readConfirmation(payload.cnf) },
      until: Math.min(exp * 1000 + config.clockSkewSeconds * 1000, now + config.cache.maxTtlMs),
    };
  };
}

/** jose's failures as reason codes. Unavailability is a state of the edge: never cached, answered 503. */
function outcomeOf(err: unknown): TokenOutcome {
  if (err instanceof AuthorizationServerUnavailableError) return rejected("AUTHORIZATION_SERVER_UNAVAILABLE", err.message, false);
  if (err instanceof errors.JWTExpired) return rejected("TOKEN_EXPIRED", "the token's exp has passed");
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === "nbf" && err.reason === "check_failed") return rejected("TOKEN_NOT_YET_VALID", "the token's nbf is in the future", false);
    if (err.claim === "iss") return rejected("TOKEN_ISSUER_INVALID", "iss is not the configured authorization server");
    if (err.claim === "aud") return rejected("TOKEN_AUDIENCE_INVALID", "aud does not contain a configured audience");
    return rejected("TOKEN_CLAIMS_INVALID", `claim ${err.claim}: ${err.reason}`);
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return rejected("TOKEN_ALGORITHM_NOT_ALLOWED", "the token's alg is not in authorizationServer.algorithms");
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys)
    // Not remembered: a key rotated in during the cool-down must be found on the next try.
    return rejected("TOKEN_KEY_UNKNOWN", "no single key of the authorization server's JWK Set matches the token's kid and alg", false);
  if (err instanceof errors.JWSSignatureVerificationFailed) return rejected("TOKEN_SIGNATURE_INVALID", "signature verification failed");
  if (err instanceof errors.JWTInvalid || err instanceof errors.JWSInvalid || err instanceof errors.JOSENotSupported || err instanceof errors.JWKInvalid)
    return rejected("TOKEN_MALFORMED", `not a valid JWS/JWT: ${err.message}`);
  if (err instanceof errors.JOSEError) return rejected("TOKEN_MALFORMED", `not a valid JWT: ${err.code}`);
  return rejected("TOKEN_MALFORMED", "not a valid JWT");
}
