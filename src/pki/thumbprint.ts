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
