import type { KeyObject } from "node:crypto";
import type { JWK } from "jose";
import type { ApplicationKey } from "../directory/keystore.js";
import type { EdgeErrorCode } from "../errors.js";
import { jwsPublicKey, verifyJwsSignature } from "./jws-crypto.js";

/** A request message whose signature and claims the edge verified. */
export interface VerifiedMessage {
  readonly alg: string;
  readonly kid: string;
  readonly iss: string;
  readonly iat: number;
  readonly jti: string;
  /** The payload's claims as verified (the idempotency fingerprint reads them rather than decoding the body again). */
  readonly claims: Readonly<Record<string, unknown>>;
}

/** The verifier's answer: the message, or the rule it broke (a stable code) and why. */
export type MessageVerdict = { readonly ok: true; readonly message: VerifiedMessage } | { readonly ok: false; readonly code: EdgeErrorCode; readonly detail: string };

export interface MessageVerifierOptions {
  /** Algorithms accepted (`messageSigning.algorithms`): never `none` or HS*, whatever the list says. */
  readonly algorithms: readonly string[];
  /** Tolerance of `iat` either side of the edge's clock, in seconds. */
  readonly clockSkewSeconds: number;
  /** The organisation's application key named `kid` (the Directory keystore); throws when the keystore cannot answer. */
  readonly key: (organisationId: string, kid: string) => Promise<ApplicationKey>;
}

export interface MessageVerifier {
  /**
   * Verifies one request message of `organisationId` (from its certificate) sent to `audience` (the endpoint's public
   * URL), at `now` (epoch ms). Rejects only when the keystore cannot answer.
   */
  verify(jws: string, organisationId: string, audience: string, now: number): Promise<MessageVerdict>;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** OFB security profile: `jti` is "the UUID defined by the institution according to [RFC4122] version 4". */
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
/** Symmetric and unsecured algorithms are never a signature of a participant (RFC 8725 §3.1, §3.2). */
const NEVER = /^(none|HS\d+)$/i;

const fail = (code: EdgeErrorCode, detail: string): MessageVerdict => ({ ok: false, code, detail });

/**
 * The checks of a signed request message (OFB security profile, "Message Content Signing Considerations (JWS)"), in
 * the payments API's order: the JWS itself — compact serialization (RFC 7515 §7.1), an accepted `alg`, a `kid`, a
 * `typ` of `JWT` when present, the signature by the calling organisation's active application key — is a 400
 * BAD_SIGNATURE matter; then the claims, a 403 INVALID_CLIENT matter: `iss` the organisation id, `aud` the endpoint,
 * `iat` within the skew, `jti` a UUID. (Whether the `jti` was seen before is the replay store's question.)
 */
export function createMessageVerifier(options: MessageVerifierOptions): MessageVerifier {
  const algorithms = options.algorithms.filter((a) => !NEVER.test(a));
  if (algorithms.length === 0) throw new TypeError("message verifier: no asymmetric algorithm in algorithms");
  if (!Number.isSafeInteger(options.clockSkewSeconds) || options.clockSkewSeconds < 0) throw new TypeError(`message verifier: clockSkewSeconds must be a non-negative integer, got ${options.clockSkewSeconds}`);
  // One import per published key and algorithm: the keystore hands out the same JWK object until it reloads the set.
  // A key that does not fit the algorithm throws and is not cached: it fails again next time.
  const imported = new WeakMap<JWK, Map<string, KeyObject>>();
  const importKey = (jwk: JWK, alg: string) => {
    let byAlg = imported.get(jwk);
    if (!byAlg) imported.set(jwk, (byAlg = new Map()));
    let key = byAlg.get(alg);
    if (!key) byAlg.set(alg, (key = jwsPublicKey(jwk, alg)));
    return key;
  };

  return {
    async verify(jws, organisationId, audience, now) {
      const parts = jws.split(".");
      // An empty third part is an unsecured JWS (RFC 7519 §6.1): well-formed, and refused for its alg below.
      if (parts.length !== 3 || !parts.every((p, i) => (i === 2 && p === "") || BASE64URL.test(p)))
        return fail("MESSAGE_MALFORMED", "the body is not a JWS in compact serialization (three base64url parts separated by '.', RFC 7515 §7.1)");
      const header = jsonObject(Buffer.from(parts[0]!, "base64url"));
      if (header === null) return fail("MESSAGE_MALFORMED", "the JOSE header is not a JSON object (RFC 7515 §4)");
      const { alg, kid, typ, crit } = header;
      if (typeof alg !== "string" || !algorithms.includes(alg)) return fail("MESSAGE_ALGORITHM_NOT_ALLOWED", `alg ${JSON.stringify(alg)?.slice(0, 40)} is not accepted (accepted: ${algorithms.join(", ")})`);
      if (typeof kid !== "string" || kid === "") return fail("MESSAGE_KEY_UNKNOWN", "the JOSE header names no kid: the key must be one the Directory publishes for the organisation");
      if (typ !== undefined && (typeof typ !== "string" || typ.toUpperCase() !== "JWT")) return fail("MESSAGE_MALFORMED", `typ ${JSON.stringify(typ).slice(0, 40)} is not JWT`);
      // RFC 7515 §4.1.11: extensions named in crit must be understood, and the edge understands none (b64: false of
      // RFC 7797 included).
      if (crit !== undefined) return fail("MESSAGE_SIGNATURE_INVALID", "the JOSE header's crit names extensions the edge does not process (RFC 7515 §4.1.11)");
      const found = await options.key(organisationId, kid);
      if (found.status === "inactive") return fail("MESSAGE_KEY_INACTIVE", `kid ${kid.slice(0, 100)} is only in ${organisationId}/inactive/application.jwks: the key is no longer active in the Directory`);
      if (found.status === "unknown") return fail("MESSAGE_KEY_UNKNOWN", `kid ${kid.slice(0, 100)} is not a signing key in ${organisationId}/application.jwks`);
      let valid: boolean;
      try {
        const key = importKey(found.jwk, alg);
        // RFC 7515 §5.2 step 8: the signature over the ASCII of the first two parts as received.
        valid = await verifyJwsSignature(alg, key, Buffer.from(jws.slice(0, parts[0]!.length + 1 + parts[1]!.length), "latin1"), Buffer.from(parts[2]!, "base64url"));
      } catch (err) {
        return fail("MESSAGE_SIGNATURE_INVALID", `the message cannot be verified with kid ${kid.slice(0, 100)} and alg ${alg}: ${(err as Error).message.slice(0, 120)}`);
      }
      if (!valid) return fail("MESSAGE_SIGNATURE_INVALID", `the signature does not verify with kid ${kid.slice(0, 100)}`);
      const claims = jsonObject(Buffer.from(parts[1]!, "base64url"));
      if (claims === null) return fail("MESSAGE_MALFORMED", "the payload is not a JSON object (a JWT claims set, RFC 7519 §7.2)");
      if (typeof claims.iss !== "string" || claims.iss.toLowerCase() !== organisationId.toLowerCase())
        return fail("MESSAGE_ISSUER_INVALID", `iss must be the organisation id of the client certificate, ${organisationId}`);
      const aud = claims.aud;
      if (!(aud === audience || (Array.isArray(aud) && aud.includes(audience)))) return fail("MESSAGE_AUDIENCE_INVALID", `aud must be the endpoint called, ${audience.slice(0, 300)}`);
      const iat = claims.iat;
      const skew = options.clockSkewSeconds;
      if (typeof iat !== "number" || !Number.isFinite(iat)) return fail("MESSAGE_IAT_INVALID", "iat must be a NumericDate (RFC 7519 §2)");
      if (Math.abs(iat - now / 1000) > skew) return fail("MESSAGE_IAT_INVALID", `iat is ${Math.round(iat - now / 1000)} s from the edge's clock; at most ±${skew} s is accepted`);
      const jti = claims.jti;
      if (typeof jti !== "string" || !UUID_V4.test(jti)) return fail("MESSAGE_JTI_INVALID", "jti must be a UUID version 4 (RFC 4122)");
      return { ok: true, message: { alg, kid, iss: claims.iss, iat, jti, claims } };
    },
  };
}

/** UTF-8 JSON bytes as a JSON object, or null. */
function jsonObject(bytes: Uint8Array): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
