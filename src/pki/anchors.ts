import { X509Certificate } from "node:crypto";
import { parseCertInfo, type CertInfo } from "./certificate.js";

/** A trust anchor loaded from a configured PEM bundle. */
export interface TrustAnchors {
  readonly pem: readonly string[];
  readonly certs: readonly CertInfo[];
  readonly bySha256: ReadonlyMap<string, CertInfo>;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Splits PEM bundle texts into certificates. Each bundle is `{ source, text }` so that an error names
 * the file and the certificate's position in it; a bundle without any certificate is an error.
 */
export function loadTrustAnchors(bundles: readonly { source: string; text: string }[]): TrustAnchors {
  const pem: string[] = [];
  const certs: CertInfo[] = [];
  for (const { source, text } of bundles) {
    const blocks = text.replace(/\r\n/g, "\n").match(PEM_BLOCK) ?? [];
    if (blocks.length === 0) throw new Error(`${source}: no PEM certificate found`);
    blocks.forEach((block, i) => {
      let der: Uint8Array;
      try {
        der = new X509Certificate(block).raw;
        certs.push(parseCertInfo(der));
      } catch (cause) {
        throw new Error(`${source}: certificate #${i + 1} cannot be parsed (${(cause as Error).message})`);
      }
      pem.push(block);
    });
  }
  return { pem, certs, bySha256: new Map(certs.map((c) => [c.sha256, c])) };
}
