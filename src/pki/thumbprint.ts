import { createHash } from "node:crypto";

/**
 * RFC 8705 §3.1 `x5t#S256`: base64url of the SHA-256 of the DER certificate, no `=` padding,
 * no whitespace. The hash is named explicitly: library thumbprint defaults (SHA-1 in @peculiar/x509)
 * are not policy.
 */
export function x5tS256(der: Uint8Array): string {
  return createHash("sha256").update(der).digest("base64url");
}

/** SHA-256 of the DER as lowercase hex (Envoy `Hash`, CloudFront `-Sha256`, trust-anchor pins). */
export function sha256Hex(der: Uint8Array): string {
  return createHash("sha256").update(der).digest("hex");
}

/** A SHA-256 fingerprint as operators write it: 64 hex digits, colons between bytes optional (Node's `fingerprint256` form included). */
export const SHA256_FINGERPRINT = /^([0-9a-fA-F]{2}:?){31}[0-9a-fA-F]{2}$/;

/** A {@link SHA256_FINGERPRINT} in the form {@link sha256Hex} produces: lowercase, no colons. */
export function normalizeFingerprint(fingerprint: string): string {
  return fingerprint.replace(/:/g, "").toLowerCase();
}
