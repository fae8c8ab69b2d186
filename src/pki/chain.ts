import type { TrustAnchors } from "./anchors.js";
import { isIssuedBy, isSelfIssued, type CertInfo } from "./certificate.js";

/** One certificate of a chain as built, and where it came from. */
export interface ChainLink {
  readonly cert: CertInfo;
  /** The client presented this certificate (for an issuer: it sent a certificate naming it, with its key). */
  readonly sent: boolean;
  /** The trust-anchor files hold it: an anchor (see {@link TrustAnchors.bySha256}) or an allowed issuer. */
  readonly inTrustFiles: boolean;
}

/** Longest chain built: ICP-Brasil transport chains are leaf → AC → root; anything far longer is not worth following. */
const MAX_LINKS = 10;

/**
 * Builds the chain from the leaf up by issuer links (RFC 5280 §7.1 names, key identifiers), as OpenSSL does
 * with X509_V_FLAG_TRUSTED_FIRST (its default since 1.1.0): at each step an issuer from the trust-anchor files
 * first, else one the client sent. It stops at a self-issued certificate or when no issuer is found.
 */
export function buildChain(sent: readonly CertInfo[], anchors: TrustAnchors): ChainLink[] {
  const leaf = sent[0]!;
  const links: ChainLink[] = [{ cert: leaf, sent: true, inTrustFiles: anchors.certs.some((c) => c.sha256 === leaf.sha256) }];
  const pool = sent.slice(1);
  for (;;) {
    const last = links[links.length - 1]!.cert;
    if (isSelfIssued(last) || links.length >= MAX_LINKS) break;
    const i = pool.findIndex((c) => isIssuedBy(last, c));
    const fromFiles = anchors.certs.find((c) => isIssuedBy(last, c));
    const next = fromFiles ?? (i >= 0 ? pool[i] : undefined);
    if (next === undefined) break;
    if (i >= 0) pool.splice(i, 1);
    links.push({ cert: next, sent: i >= 0, inTrustFiles: fromFiles !== undefined });
  }
  return links;
}

/** True when the chain ends at one of the anchors (a root of the trust-anchor files). */
export function endsAtAnchor(links: readonly ChainLink[], anchors: TrustAnchors): boolean {
  return anchors.bySha256.has(links[links.length - 1]!.cert.sha256);
}
