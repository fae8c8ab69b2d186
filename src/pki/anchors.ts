import { X509Certificate } from "node:crypto";
import { isIssuedBy, isSelfIssued, parseCertInfo, type CertInfo } from "./certificate.js";

/**
 * The certificates of the configured trust-anchor files, in their two roles. A file may hold roots only, or
 * roots and ACs (what `ofb-edge trust fetch` writes: root v10 and its SSL ACs); an AC in a file is never an
 * anchor. OpenSSL's store (`ca`) receives every certificate: without X509_V_FLAG_PARTIAL_CHAIN (Node does not
 * set it) a path still has to end at a self-signed root, and the ACs let it complete a chain the client sent
 * without its intermediate — which chain policy then judges on what the client actually sent.
 */
export interface TrustAnchors {
  /** Every certificate of the files (roots and ACs), PEM: what OpenSSL's store receives. */
  readonly pem: readonly string[];
  /** Every certificate of the files, in file order. */
  readonly certs: readonly CertInfo[];
  /** The anchors: the self-signed roots of the files. */
  readonly roots: readonly CertInfo[];
  /**
   * The allowed issuers: the ACs of the files, the CAs a client chain may pass through. Empty when the files
   * hold roots only (then any AC under an anchor may issue).
   */
  readonly issuers: readonly CertInfo[];
  /** The anchors (roots) by SHA-256, lowercase hex. */
  readonly bySha256: ReadonlyMap<string, CertInfo>;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The PEM certificate blocks of a text, in order (CRLF line ends read as LF). */
export function pemCertificateBlocks(text: string): string[] {
  return text.replace(/\r\n/g, "\n").match(PEM_BLOCK) ?? [];
}

interface Loaded {
  readonly info: CertInfo;
  /** "<file>: certificate #n 'CN'", for messages. */
  readonly where: string;
}

/**
 * Splits PEM bundle texts into certificates and sorts them into anchors (self-signed roots) and allowed issuers
 * (ACs). Each bundle is `{ source, text }` so that an error names the file and the certificate's position in
 * it. Throws (naming the file, the certificate and the fix) for a bundle without any certificate, a certificate
 * that cannot be parsed, a certificate that is neither a root nor a CA, and an AC whose issuer is in no file:
 * such an AC can never be part of a validated path (RFC 5280 §6.1: a path ends at a trust anchor).
 */
export function loadTrustAnchors(bundles: readonly { source: string; text: string }[]): TrustAnchors {
  const pem: string[] = [];
  const loaded: Loaded[] = [];
  for (const { source, text } of bundles) {
    const blocks = pemCertificateBlocks(text);
    if (blocks.length === 0) throw new Error(`${source}: no PEM certificate found`);
    blocks.forEach((block, i) => {
      let info: CertInfo;
      try {
        info = parseCertInfo(new X509Certificate(block).raw);
      } catch (cause) {
        throw new Error(`${source}: certificate #${i + 1} cannot be parsed (${(cause as Error).message})`);
      }
      loaded.push({ info, where: `${source}: certificate #${i + 1} '${info.label}'` });
      pem.push(block);
    });
  }
  const roots = loaded.filter((c) => isRoot(c.info));
  const acs = loaded.filter((c) => !isRoot(c.info));
  const notCa = acs.find((c) => !c.info.isCa);
  if (notCa) {
    throw new Error(`${notCa.where} is neither a self-signed root nor a CA (basicConstraints cA is not set): a trust-anchor file holds roots and the ACs that issue client certificates; remove it`);
  }
  const orphan = unanchored(roots, acs)[0];
  if (orphan) {
    throw new Error(
      `${orphan.where} is an AC whose issuer '${orphan.info.issuerLabel}' is in none of the trust-anchor files: no path through it can end at a root (partial chains are not accepted), so it would never validate a client; add its root (and any AC between) to the files, or remove the AC`,
    );
  }
  const certs = loaded.map((c) => c.info);
  const rootInfos = roots.map((c) => c.info);
  return { pem, certs, roots: rootInfos, issuers: acs.map((c) => c.info), bySha256: new Map(rootInfos.map((c) => [c.sha256, c])) };
}

/** A self-signed root by names and key identifiers (RFC 5280 §3.2); OpenSSL checks its signature when it uses it. */
function isRoot(cert: CertInfo): boolean {
  return isSelfIssued(cert) && (cert.authorityKeyId === null || cert.subjectKeyId === null || cert.authorityKeyId === cert.subjectKeyId);
}

/** The ACs from which no chain of file certificates leads to a root. */
function unanchored(roots: readonly Loaded[], acs: readonly Loaded[]): Loaded[] {
  const anchored = new Set<Loaded>(roots);
  let rest = [...acs];
  for (let grew = true; grew && rest.length > 0; ) {
    const reached = rest.filter((ac) => [...anchored].some((issuer) => isIssuedBy(ac.info, issuer.info)));
    for (const ac of reached) anchored.add(ac);
    rest = rest.filter((ac) => !anchored.has(ac));
    grew = reached.length > 0;
  }
  return rest;
}
