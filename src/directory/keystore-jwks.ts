import type { JWK } from "jose";
import { x5tS256 } from "../pki/thumbprint.js";

/**
 * Reading the Directory keystore's JWK Sets (RFC 7517 §5): transport keys by certificate thumbprint, application
 * (signing) keys by `kid`, and the cached forms of both.
 */

/** RFC 7517 §4.7: `x5c` members are standard base64 (not base64url) of the DER certificate. */
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The `keys` of a JWK Set, or null when the body is not one. */
export function jwksKeys(body: string): unknown[] | null {
  let jwks: unknown;
  try {
    jwks = JSON.parse(body);
  } catch {
    return null;
  }
  if (typeof jwks !== "object" || jwks === null || !Array.isArray((jwks as { keys?: unknown }).keys)) return null;
  return (jwks as { keys: unknown[] }).keys;
}

/**
 * The `x5t#S256` of every key, computed from `x5c[0]` (the published `kid` and `x5t#256`/`x5t#S256` members are the
 * participant's tooling's and never trusted). Keys without a usable `x5c[0]` are skipped.
 */
export function transportThumbprints(keys: readonly unknown[]): string[] {
  const thumbprints: string[] = [];
  for (const jwk of keys) {
    const x5c = typeof jwk === "object" && jwk !== null ? (jwk as { x5c?: unknown }).x5c : undefined;
    const first: unknown = Array.isArray(x5c) ? x5c[0] : undefined;
    if (typeof first !== "string" || !BASE64.test(first)) continue;
    thumbprints.push(x5tS256(Buffer.from(first, "base64")));
  }
  return thumbprints;
}

/** The public members a signature key may carry, per key type (RFC 7518 §6.2.1, §6.3.1); nothing private is kept. */
const PUBLIC_MEMBERS: Readonly<Record<string, readonly string[]>> = { RSA: ["n", "e"], EC: ["crv", "x", "y"] };

/**
 * The signature keys of an application JWK Set, by `kid`: RSA and EC keys whose `use` is `sig` or absent (an `enc`
 * key published in the same set is not a signing key, RFC 7517 §4.2), reduced to their public members. A key
 * without a `kid`, or whose `kid` appears twice, cannot be chosen by a message and is left out.
 */
export function signatureKeys(keys: readonly unknown[]): Record<string, JWK> {
  const byKid: Record<string, JWK> = {};
  const repeated = new Set<string>();
  for (const key of keys) {
    if (typeof key !== "object" || key === null) continue;
    const k = key as Record<string, unknown>;
    const members = typeof k.kty === "string" ? PUBLIC_MEMBERS[k.kty] : undefined;
    if (!members || typeof k.kid !== "string" || k.kid === "" || (k.use !== undefined && k.use !== "sig")) continue;
    if (!members.every((m) => typeof k[m] === "string")) continue;
    if (Object.hasOwn(byKid, k.kid)) repeated.add(k.kid);
    byKid[k.kid] = { kty: k.kty as string, kid: k.kid, ...Object.fromEntries(members.map((m) => [m, k[m]])) };
  }
  for (const kid of repeated) delete byKid[kid];
  return byKid;
}

/** The `kid`s of a set, whatever the key (the inactive set only says which keys are no longer active). */
export function kidsOf(keys: readonly unknown[]): string[] {
  return keys.flatMap((k) => (typeof k === "object" && k !== null && typeof (k as { kid?: unknown }).kid === "string" ? [(k as { kid: string }).kid] : []));
}

/** A cached JSON value, or null when absent or not what `valid` accepts (then it is fetched again). */
export function decodeCached<T>(value: string | null, valid: (parsed: unknown) => parsed is T): T | null {
  if (value === null) return null;
  try {
    const parsed: unknown = JSON.parse(value);
    return valid(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

export const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === "string");
