import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { importPKCS8, SignJWT, type JWTPayload } from "jose";
import type { TestPkiManifest } from "./manifest.js";

/** What a participant's payment message carries besides the payload (OFB security profile, JWS claims). */
export interface TestMessageOptions {
  /** The endpoint's URL as the bank publishes it (`aud`). */
  readonly aud: string | readonly string[];
  /** The message itself (e.g. `{ data: { … } }`); the claims below are added to it. */
  readonly payload?: Record<string, unknown>;
  /** Default the key's organisation id. */
  readonly iss?: string;
  /** Default now. */
  readonly iat?: number;
  /** Default a random UUID (version 4). */
  readonly jti?: string;
  /** Claims to drop (to send a message without `jti`, say). */
  readonly omit?: readonly ("iss" | "aud" | "iat" | "jti")[];
  /** Header members to add or override (`alg` must stay one the key can sign with). */
  readonly header?: Record<string, unknown>;
}

/** A participant's message signer: signs with its test PKI signing key, `kid` as the keystore publishes it. */
export interface TestMessageSigner {
  readonly organisationId: string;
  readonly kid: string;
  /** A compact JWS (PS256, `typ: JWT`) of the payload and the claims. */
  sign(options: TestMessageOptions): Promise<string>;
}

/**
 * The TPP signer of the test PKI: signs payment messages as a participant of the Directory fixture would, with one
 * of the PKI's signing keys (`participant-a`, `participant-a-inactive`, `participant-b`, `bank`). TEST ONLY.
 */
export async function testMessageSigner(pki: TestPkiManifest, name: string): Promise<TestMessageSigner> {
  const entry = pki.signingKeys[name];
  if (!entry) throw new Error(`the test PKI has no signing key '${name}' (known: ${Object.keys(pki.signingKeys).join(", ")})`);
  return messageSigner({ keyPem: await readFile(entry.key, "utf8"), kid: entry.kid, organisationId: entry.organisationId });
}

/** A message signer from a PKCS#8 PEM key (an operator's, in conformance target mode). */
export async function messageSigner(o: { readonly keyPem: string; readonly kid: string; readonly organisationId: string }): Promise<TestMessageSigner> {
  const key = await importPKCS8(o.keyPem, "PS256");
  return {
    organisationId: o.organisationId,
    kid: o.kid,
    sign(options) {
      const claims: JWTPayload = {
        ...options.payload,
        iss: options.iss ?? o.organisationId,
        aud: typeof options.aud === "string" ? options.aud : [...options.aud],
        iat: options.iat ?? Math.floor(Date.now() / 1000),
        jti: options.jti ?? randomUUID(),
      };
      for (const claim of options.omit ?? []) delete claims[claim];
      return new SignJWT(claims).setProtectedHeader({ alg: "PS256", kid: o.kid, typ: "JWT", ...options.header }).sign(key);
    },
  };
}
