import { createPrivateKey, randomUUID, type JsonWebKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { ConfigError } from "../errors.js";
import { signJws } from "./jws-crypto.js";
import type { MessageSigningConfig } from "./signing-config.js";

/** Signs the bank's response messages with its Directory application key. */
export interface ResponseSigner {
  /** The bank's organisation id: `iss` of every signed response. */
  readonly organisationId: string;
  readonly kid: string;
  /**
   * A compact JWS (`alg` PS256, the bank's `kid`, `typ` JWT) of `payload` with the response claims set by the edge:
   * `iss` the bank, `aud` the calling organisation, `iat` now and a fresh `jti` (OFB security profile, "Message
   * Content Signing Considerations (JWS)", item 3).
   */
  sign(payload: Readonly<Record<string, unknown>>, audience: string): Promise<string>;
}

const KEY_PATH = "messageSigning.signingKey";

/**
 * Reads and checks the bank's signing key (a PEM or JWK file) when the configuration is applied — at start-up and
 * on every reload, so a replaced key file is in use from the reload on, and a bad one leaves the running key in
 * place. Errors name the file and the rule, never key material. Null when no signing key is configured.
 */
export function createResponseSigner(config: MessageSigningConfig, deps: { readonly now: () => number; readonly configFile: string }): ResponseSigner | null {
  if (!config.signingKey || !config.organisationId) return null;
  const { file } = config.signingKey;
  const fail = (path: string, message: string) => new ConfigError(deps.configFile, [{ path, message }]);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (cause) {
    throw fail(`${KEY_PATH}.file`, `cannot read ${file}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`);
  }
  const { key, kid: fileKid } = parseKey(text, file, (message) => fail(`${KEY_PATH}.file`, message));
  const kid = config.signingKey.kid ?? fileKid;
  if (kid === undefined) throw fail(`${KEY_PATH}.kid`, `required: ${file} is a PEM key, which names no kid (give the kid of the key in the bank's application.jwks)`);
  const details = key.asymmetricKeyDetails ?? {};
  // RFC 7518 §3.5: PS256 is RSASSA-PSS, with a key of at least 2048 bits.
  if (key.asymmetricKeyType !== "rsa") throw fail(`${KEY_PATH}.file`, `${file}: PS256 needs an RSA key, the file holds a key of type ${key.asymmetricKeyType}`);
  if ((details.modulusLength ?? 0) < 2048) throw fail(`${KEY_PATH}.file`, `${file}: PS256 needs an RSA key of at least 2048 bits, the key has ${details.modulusLength}`);
  // The protected header is the same for every response: encoded once (RFC 7515 §7.1).
  const header = `${Buffer.from(JSON.stringify({ alg: "PS256", kid, typ: "JWT" })).toString("base64url")}.`;
  const organisationId = config.organisationId;
  return {
    organisationId,
    kid,
    async sign(payload, audience) {
      const claims = { ...payload, iss: organisationId, aud: audience, iat: Math.floor(deps.now() / 1000), jti: randomUUID() };
      const input = header + Buffer.from(JSON.stringify(claims)).toString("base64url");
      const signature = await signJws("PS256", key, Buffer.from(input, "latin1"));
      return `${input}.${signature.toString("base64url")}`;
    },
  };
}

/** A private key from PEM (PKCS#8, PKCS#1) or a JSON JWK (RFC 7517), and the JWK's `kid` if it has one. */
function parseKey(text: string, file: string, fail: (message: string) => ConfigError): { key: KeyObject; kid: string | undefined } {
  if (text.trimStart().startsWith("{")) {
    let jwk: Record<string, unknown>;
    try {
      jwk = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw fail(`${file} is neither PEM nor a JSON JWK`);
    }
    if (typeof jwk.d !== "string") throw fail(`${file} is a public JWK: the private key (member d) is needed to sign`);
    try {
      return { key: createPrivateKey({ key: jwk as JsonWebKey, format: "jwk" }), kid: typeof jwk.kid === "string" ? jwk.kid : undefined };
    } catch (cause) {
      throw fail(`${file} is not a usable private JWK: ${(cause as NodeJS.ErrnoException).code ?? "unreadable"}`);
    }
  }
  try {
    return { key: createPrivateKey(text), kid: undefined };
  } catch (cause) {
    // OpenSSL's decoder errors carry a code and a routine name only; the PEM never reaches the message.
    throw fail(`${file} is not an unencrypted private key in PEM (PKCS#8 or PKCS#1): ${(cause as NodeJS.ErrnoException).code ?? "unreadable"}`);
  }
}
