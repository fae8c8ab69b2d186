import { constants, createPublicKey, sign as cryptoSign, verify as cryptoVerify, type JsonWebKey, type KeyObject, type SignKeyObjectInput, type VerifyKeyObjectInput } from "node:crypto";
import type { JWK } from "jose";

/**
 * The signature step of a compact JWS (RFC 7515 §5.2 step 8, §5.1 step 5) with node:crypto's one-shot
 * `sign`/`verify` in their callback form, which run on libuv's thread pool: the message's bytes are the ones already
 * split and decoded by the caller, with no second base64url pass, no WebCrypto argument normalisation and no
 * CryptoKey conversion per call.
 */

interface Algorithm {
  readonly hash: "sha256" | "sha384" | "sha512";
  readonly key: "rsa" | "ec";
  /** RSASSA-PSS (RFC 7518 §3.5): the salt is as long as the hash output. */
  readonly pssSalt?: number;
  /** ECDSA (RFC 7518 §3.4): the curve the key must be on; the signature is R || S. */
  readonly curve?: string;
}

/** RFC 7518 §3.1. */
const ALGORITHMS: Readonly<Record<string, Algorithm>> = {
  PS256: { hash: "sha256", key: "rsa", pssSalt: 32 },
  PS384: { hash: "sha384", key: "rsa", pssSalt: 48 },
  PS512: { hash: "sha512", key: "rsa", pssSalt: 64 },
  RS256: { hash: "sha256", key: "rsa" },
  RS384: { hash: "sha384", key: "rsa" },
  RS512: { hash: "sha512", key: "rsa" },
  ES256: { hash: "sha256", key: "ec", curve: "prime256v1" },
  ES384: { hash: "sha384", key: "ec", curve: "secp384r1" },
  ES512: { hash: "sha512", key: "ec", curve: "secp521r1" },
};

/** RFC 7518 §3.3, §3.5: "A key of size 2048 bits or larger MUST be used with these algorithms." */
const MIN_RSA_BITS = 2048;

function algorithm(alg: string): Algorithm {
  const a = ALGORITHMS[alg];
  if (!a) throw new TypeError(`unsupported JWS algorithm ${alg.slice(0, 20)}`);
  return a;
}

/**
 * Checks that `key` can sign or verify with `alg` (RFC 7518 §3: an RSA key of at least 2048 bits for RSnnn and PSnnn, a
 * key on the algorithm's curve for ESnnn); throws a TypeError saying why not.
 */
export function checkKeyFits(key: KeyObject, alg: string): void {
  const a = algorithm(alg);
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  if (a.key === "rsa" && (type !== "rsa" || (details.modulusLength ?? 0) < MIN_RSA_BITS)) throw new TypeError(`${alg} needs an RSA key of at least ${MIN_RSA_BITS} bits`);
  if (a.key === "ec" && (type !== "ec" || details.namedCurve !== a.curve)) throw new TypeError(`${alg} needs an EC key on ${a.curve}`);
}

/**
 * A published verification key (a JWK of the Directory keystore) as a KeyObject for `alg`; a TypeError when it is
 * not one (a private key, a key for encryption, `key_ops` without verify, a key that does not fit the algorithm).
 */
export function jwsPublicKey(jwk: JWK, alg: string): KeyObject {
  if (jwk.d !== undefined) throw new TypeError("the key is a private key");
  if (jwk.use !== undefined && jwk.use !== "sig") throw new TypeError(`the key's "use" is ${String(jwk.use).slice(0, 20)}, not sig (RFC 7517 §4.2)`);
  if (Array.isArray(jwk.key_ops) && !jwk.key_ops.includes("verify")) throw new TypeError(`the key's "key_ops" does not include verify (RFC 7517 §4.3)`);
  if (jwk.alg !== undefined && jwk.alg !== alg) throw new TypeError(`the key's "alg" is ${String(jwk.alg).slice(0, 20)}, not ${alg}`);
  const key = createPublicKey({ key: jwk as JsonWebKey, format: "jwk" });
  checkKeyFits(key, alg);
  return key;
}

function options<T extends SignKeyObjectInput | VerifyKeyObjectInput>(key: KeyObject, a: Algorithm): T {
  if (a.pssSalt !== undefined) return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: a.pssSalt } as T;
  if (a.key === "ec") return { key, dsaEncoding: "ieee-p1363" } as T;
  return { key } as T;
}

/** Whether `signature` is `alg`'s signature of `signingInput` (the ASCII of `header.payload`) by `key`. */
export function verifyJwsSignature(alg: string, key: KeyObject, signingInput: Buffer, signature: Buffer): Promise<boolean> {
  const a = algorithm(alg);
  return new Promise((resolve, reject) => cryptoVerify(a.hash, signingInput, options<VerifyKeyObjectInput>(key, a), signature, (err, ok) => (err ? reject(err) : resolve(ok))));
}

/** `alg`'s signature of `signingInput` by the private `key` (checked with {@link checkKeyFits} beforehand). */
export function signJws(alg: string, key: KeyObject, signingInput: Buffer): Promise<Buffer> {
  const a = algorithm(alg);
  return new Promise((resolve, reject) => cryptoSign(a.hash, signingInput, options<SignKeyObjectInput>(key, a), (err, signature) => (err ? reject(err) : resolve(signature))));
}
