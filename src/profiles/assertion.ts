import { constants, createHash, createPrivateKey, createPublicKey, randomUUID, sign, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import type { JWK } from "jose";
import { ConfigError } from "../errors.js";
import type { IdentityAssertionConfig } from "./assertion-config.js";

/** The verified identity of one request, as the edge asserts it to the backend. */
export interface AssertedIdentity {
  /** `x5t#S256` of the client certificate (RFC 8705 §3.1). */
  readonly thumbprint: string;
  readonly organisationId: string;
  readonly softwareStatementId: string;
  readonly cnpj: string | null;
  /** Whether `cnpj` passed its check digits (`false`: accepted unverified under `policy.cnpj: "flag"`). */
  readonly cnpjVerified: boolean;
  /** The organisation's active Directory roles; null when the route did not check the Directory. */
  readonly roles: readonly string[] | null;
  /** `client_id` of the verified access token, when the route verified one. */
  readonly clientId: string | null;
  readonly interactionId: string;
  /** The upstream's origin, e.g. `http://10.0.0.5:8080`: the assertion's `aud`. */
  readonly audience: string;
}

export interface IdentityAssertionSigner {
  /** The request header that carries the assertion, in lower case. */
  readonly header: string;
  /** Signs one identity into a compact JWS (`typ: ofb-identity+jwt`). */
  sign(identity: AssertedIdentity): Promise<string>;
  /** The public JWK Set a backend verifies assertions against (served on the admin listener). */
  jwks(): { keys: JWK[] };
}

/** The JOSE `typ` of the assertion (RFC 8725 §3.11: explicit typing, so it cannot pass for another JWT). */
export const IDENTITY_ASSERTION_TYPE = "ofb-identity+jwt";

const KEY_PATH = "identityAssertion.key";

/** Why a key cannot sign with an algorithm, or null (RFC 7518 §3.4: ES256 is P-256; §3.5: RSA ≥ 2048 bits). */
function keyMismatch(key: KeyObject, algorithm: IdentityAssertionConfig["algorithm"]): string | null {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  if (algorithm === "ES256") {
    if (type !== "ec") return `algorithm ES256 needs an EC P-256 key, the file holds a key of type ${type}`;
    if (details.namedCurve !== "prime256v1") return `algorithm ES256 needs an EC key on P-256 (prime256v1), the key is on ${details.namedCurve}`;
    return null;
  }
  if (type !== "rsa") return `algorithm PS256 needs an RSA key, the file holds a key of type ${type}`;
  if ((details.modulusLength ?? 0) < 2048) return `algorithm PS256 needs an RSA key of at least 2048 bits, the key has ${details.modulusLength}`;
  return null;
}

/** Reads and checks the signing key at start-up. Messages name the file and the problem, never key material. */
function readSigningKey(config: IdentityAssertionConfig, configFile: string): KeyObject {
  const fail = (message: string) => new ConfigError(configFile, [{ path: KEY_PATH, message }]);
  let pem: string;
  try {
    pem = readFileSync(config.key, "utf8");
  } catch (cause) {
    throw fail(`cannot read ${config.key}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (cause) {
    // OpenSSL's decoder errors carry a code and a routine name only; the PEM never reaches the message.
    throw fail(`${config.key} is not an unencrypted private key in PEM (PKCS#8, SEC1 or PKCS#1): ${(cause as NodeJS.ErrnoException).code ?? "unreadable"}`);
  }
  const mismatch = keyMismatch(key, config.algorithm);
  if (mismatch) throw fail(`${config.key}: ${mismatch}`);
  return key;
}

/** RFC 7518 §3.4 (ES256: the signature is r‖s, not DER) and §3.5 (PS256: MGF1 with SHA-256, a 32-byte salt). */
const SIGNATURE_OPTIONS = {
  ES256: { dsaEncoding: "ieee-p1363" },
  PS256: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
} as const;

/**
 * Signs a JWS signing input with node:crypto. Measured on Node 20: a P-256 signature costs ~30 µs inline, less
 * than a threadpool round trip (and jose's WebCrypto path costs ~140 µs), so ES256 signs synchronously; an
 * RSA-2048 PSS signature costs ~270 µs, long enough to stall the event loop, so PS256 goes to the threadpool.
 */
function signatureOf(key: KeyObject, algorithm: IdentityAssertionConfig["algorithm"]): (input: Buffer) => Promise<Buffer> {
  const options = { key, ...SIGNATURE_OPTIONS[algorithm] };
  if (algorithm === "ES256") return async (input) => sign("sha256", input, options);
  return (input) => new Promise((resolve, reject) => sign("sha256", input, options, (err, signature) => (err ? reject(err) : resolve(signature))));
}

const base64url = (json: unknown) => Buffer.from(JSON.stringify(json)).toString("base64url");

/** RFC 7638 §3.2: SHA-256 over the required members only, in lexicographic order, without whitespace. */
function jwkThumbprint(jwk: JWK): string {
  const required = jwk.kty === "EC" ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { e: jwk.e, kty: jwk.kty, n: jwk.n };
  return createHash("sha256").update(JSON.stringify(required)).digest("base64url");
}

/**
 * The signed identity assertion (origin protection): a short-lived JWS over the identity the edge verified,
 * bound to the client certificate the RFC 8705 way (`cnf.x5t#S256`) and addressed to one upstream (`aud`),
 * so a backend can trust the identity even if a request reaches it some other way. The key is read and
 * checked here, once, so a bad key stops start-up; `now` (epoch ms) dates every assertion.
 */
export function createIdentityAssertionSigner(config: IdentityAssertionConfig, deps: { now: () => number; configFile: string }): IdentityAssertionSigner {
  const key = readSigningKey(config, deps.configFile);
  const publicJwk: JWK = createPublicKey(key).export({ format: "jwk" });
  const kid = config.kid ?? jwkThumbprint(publicJwk);
  const jwk: JWK = { ...publicJwk, kid, alg: config.algorithm, use: "sig" };
  // RFC 7515 §7.1: the protected header is the same for every assertion; encode it once.
  const encodedHeader = base64url({ alg: config.algorithm, kid, typ: IDENTITY_ASSERTION_TYPE });
  const signature = signatureOf(key, config.algorithm);

  return {
    header: config.header.toLowerCase(),
    // A copy each time: what a caller does with it never changes the published key.
    jwks: () => ({ keys: [{ ...jwk }] }),
    async sign(identity) {
      const iat = Math.floor(deps.now() / 1000);
      const claims = {
        iss: config.issuer,
        sub: identity.softwareStatementId,
        aud: identity.audience,
        iat,
        exp: iat + config.lifetimeSeconds,
        jti: randomUUID(),
        // RFC 8705 §3.1: the certificate the identity was verified from.
        cnf: { "x5t#S256": identity.thumbprint },
        org_id: identity.organisationId,
        software_statement_id: identity.softwareStatementId,
        ...(identity.cnpj === null ? {} : { cnpj: identity.cnpj, cnpj_verified: identity.cnpjVerified }),
        ...(identity.roles === null ? {} : { roles: identity.roles }),
        ...(identity.clientId === null ? {} : { client_id: identity.clientId }),
        interaction_id: identity.interactionId,
      };
      const input = `${encodedHeader}.${base64url(claims)}`;
      return `${input}.${(await signature(Buffer.from(input))).toString("base64url")}`;
    },
  };
}
