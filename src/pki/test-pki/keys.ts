// @peculiar/x509 resolves its services through tsyringe, which needs reflect-metadata loaded first.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { webcrypto } from "node:crypto";

/** A hash the test PKI may sign with. SHA-1 exists only to mint the "weak signature" bad case. */
export type HashName = "SHA-1" | "SHA-256" | "SHA-384" | "SHA-512";

/** The key pair to generate for a certificate. RSA keys are RSASSA-PKCS1-v1_5 (what ICP-Brasil issues). */
export type KeySpec =
  | { readonly algorithm: "RSA"; readonly modulusLength?: number }
  | { readonly algorithm: "ECDSA"; readonly namedCurve?: "P-256" | "P-384" };

/** ICP-Brasil type A transport certificates are RSA 2048 (OFB certificate standard 2.1). */
export const DEFAULT_KEY: KeySpec = { algorithm: "RSA", modulusLength: 2048 };

const RSA_PUBLIC_EXPONENT = new Uint8Array([0x01, 0x00, 0x01]);

/**
 * Node's WebCrypto, installed as @peculiar/x509's provider. The provider is also passed explicitly to
 * every generator call; installing it covers the library paths that take no provider argument.
 */
export function nodeCrypto(): webcrypto.Crypto {
  const provider = webcrypto;
  x509.cryptoProvider.set(provider);
  return provider;
}

/** Generates an extractable key pair (extractable so it can be written as PKCS#8 and re-imported per hash). */
export async function generateKeyPair(spec: KeySpec = DEFAULT_KEY): Promise<webcrypto.CryptoKeyPair> {
  const subtle = nodeCrypto().subtle;
  if (spec.algorithm === "RSA") {
    const params: webcrypto.RsaHashedKeyGenParams = {
      name: "RSASSA-PKCS1-v1_5",
      hash: "SHA-256",
      publicExponent: RSA_PUBLIC_EXPONENT,
      modulusLength: spec.modulusLength ?? 2048,
    };
    return subtle.generateKey(params, true, ["sign", "verify"]);
  }
  const params: webcrypto.EcKeyGenParams = { name: "ECDSA", namedCurve: spec.namedCurve ?? "P-256" };
  return subtle.generateKey(params, true, ["sign", "verify"]);
}

/**
 * The private key and algorithm to sign with `hash`. WebCrypto binds an RSA key to one hash at
 * import time and @peculiar/x509 lets the key's hash override the requested one, so a different hash
 * needs the key re-imported; ECDSA takes the hash per signature.
 */
export async function signingKeyFor(
  privateKey: webcrypto.CryptoKey,
  hash: HashName,
): Promise<{ key: webcrypto.CryptoKey; algorithm: webcrypto.RsaHashedImportParams | webcrypto.EcdsaParams }> {
  const subtle = nodeCrypto().subtle;
  const name = privateKey.algorithm.name;
  if (name === "ECDSA") {
    return { key: privateKey, algorithm: { name, hash } };
  }
  const current = (privateKey.algorithm as webcrypto.RsaHashedKeyAlgorithm).hash.name;
  const algorithm: webcrypto.RsaHashedImportParams = { name, hash };
  if (current === hash) {
    return { key: privateKey, algorithm };
  }
  const pkcs8 = await subtle.exportKey("pkcs8", privateKey);
  const key = await subtle.importKey("pkcs8", pkcs8, algorithm, false, ["sign"]);
  return { key, algorithm };
}

/** PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`) of a private key. */
export async function privateKeyPem(privateKey: webcrypto.CryptoKey): Promise<string> {
  const pkcs8 = await nodeCrypto().subtle.exportKey("pkcs8", privateKey);
  return x509.PemConverter.encode(pkcs8, "PRIVATE KEY");
}

/**
 * Imports a PKCS#8 PEM private key together with its certificate's public key. The algorithm comes
 * from the certificate (RSA keys as RSASSA-PKCS1-v1_5 SHA-256, EC keys as ECDSA on their curve).
 */
export async function importKeyPair(cert: x509.X509Certificate, keyPem: string): Promise<webcrypto.CryptoKeyPair> {
  const crypto = nodeCrypto();
  const certAlgorithm = cert.publicKey.algorithm as webcrypto.Algorithm & { namedCurve?: string };
  const algorithm: webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams =
    certAlgorithm.name === "ECDSA"
      ? { name: "ECDSA", namedCurve: certAlgorithm.namedCurve ?? "P-256" }
      : { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  const pkcs8 = x509.PemConverter.decodeFirst(keyPem);
  const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, algorithm, true, ["sign"]);
  const publicKey = await cert.publicKey.export(algorithm, ["verify"], crypto);
  return { privateKey, publicKey };
}

/**
 * A random 16-byte serial number as hex. The first byte is kept in 0x01–0x7f so the DER INTEGER
 * needs no 0x00 pad and every tool (Node, OpenSSL, @peculiar/x509) prints the same hex digits.
 */
export function randomSerialNumber(): string {
  const bytes = nodeCrypto().getRandomValues(new Uint8Array(16));
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return Buffer.from(bytes).toString("hex");
}
