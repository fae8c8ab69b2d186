import { X509Certificate } from "node:crypto";
import { AsnConvert } from "@peculiar/asn1-schema";
import { Certificate } from "@peculiar/asn1-x509";
import type { TrustAnchors } from "./anchors.js";
import { parseCertInfo } from "./certificate.js";
import { normalizeFingerprint } from "./thumbprint.js";

/** Extensions OpenSSL processes (RFC 5280 §4.2); a critical one outside this set fails path validation. */
const KNOWN_EXTENSIONS: ReadonlySet<string> = new Set([
  "2.5.29.14", // subjectKeyIdentifier
  "2.5.29.15", // keyUsage
  "2.5.29.17", // subjectAltName
  "2.5.29.18", // issuerAltName
  "2.5.29.19", // basicConstraints
  "2.5.29.31", // cRLDistributionPoints
  "2.5.29.32", // certificatePolicies
  "2.5.29.35", // authorityKeyIdentifier
  "2.5.29.37", // extKeyUsage
  "1.3.6.1.5.5.7.1.1", // authorityInfoAccess
]);

/** OpenSSL's default verify depth (100) is far beyond any real chain; this bound only stops a cycle early. */
const MAX_DEPTH = 10;

/** Constraints this validator does not evaluate: their presence fails closed. */
const UNEVALUATED: ReadonlySet<string> = new Set(["2.5.29.30", "2.5.29.33", "2.5.29.36", "2.5.29.54"]);

function extensionProblem(der: Uint8Array): string | null {
  const extensions = AsnConvert.parse(der, Certificate).tbsCertificate.extensions ?? [];
  for (const e of extensions) {
    if (UNEVALUATED.has(e.extnID)) return "UNHANDLED_CRITICAL_EXTENSION";
    if (e.critical && !KNOWN_EXTENSIONS.has(e.extnID)) return "UNHANDLED_CRITICAL_EXTENSION";
  }
  return null;
}

const stores = new WeakMap<TrustAnchors, X509Certificate[]>();

/** The certificates of the trust-anchor files as Node objects, decoded once per loaded set. */
function storeOf(anchors: TrustAnchors): X509Certificate[] {
  let store = stores.get(anchors);
  if (store === undefined) {
    store = anchors.certs.map((c) => new X509Certificate(c.der));
    stores.set(anchors, store);
  }
  return store;
}

/**
 * Path validation for a chain that did not arrive in a TLS handshake (a certificate forwarded by a trusted
 * TLS terminator, or a file given to `ofb-edge inspect`), answering with OpenSSL's verify code names so the
 * same table (pki/openssl-errors.ts) and policy apply. It builds the path as OpenSSL does with the trust-anchor
 * files as its store: at each step an issuer from the files first (roots and ACs, X509_V_FLAG_TRUSTED_FIRST),
 * else one the client sent, until a root of the files; whether the client sent its own AC is chain policy's
 * question, as for a handshake. Then: each certificate is issued (names) and signed by the next, every issuer
 * is a CA (basicConstraints) within its pathLenConstraint. Validity is checked per request against the
 * injected clock (policy `checkValidity`), as for handshake chains. Name constraints and policy constraints
 * are not evaluated here, so a chain that carries them fails closed (ICP-Brasil transport chains use neither),
 * as does any critical extension OpenSSL would not know.
 */
export function verifyPath(presented: readonly Uint8Array[], anchors: TrustAnchors): string | null {
  let certs: X509Certificate[];
  try {
    certs = presented.map((der) => new X509Certificate(der));
  } catch {
    return "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY";
  }
  const store = storeOf(anchors);
  const isAnchor = (c: X509Certificate) => anchors.bySha256.has(normalizeFingerprint(c.fingerprint256));
  const path: X509Certificate[] = [certs[0]!];
  const pool = certs.slice(1);
  for (;;) {
    const last = path[path.length - 1]!;
    if (isAnchor(last)) break;
    // Self-signed as OpenSSL means it (names and signature), whatever the keyUsage says.
    if (last.subject === last.issuer && last.verify(last.publicKey)) return path.length === 1 ? "DEPTH_ZERO_SELF_SIGNED_CERT" : "SELF_SIGNED_CERT_IN_CHAIN";
    if (path.length > MAX_DEPTH) return "CERT_CHAIN_TOO_LONG";
    const issues = (c: X509Certificate) => !path.includes(c) && last.checkIssued(c);
    const issuer = store.find(issues) ?? pool.find(issues);
    if (issuer === undefined) return path.length === 1 ? "UNABLE_TO_VERIFY_LEAF_SIGNATURE" : "UNABLE_TO_GET_ISSUER_CERT_LOCALLY";
    path.push(issuer);
  }
  for (const c of path) {
    if (isAnchor(c)) continue;
    const problem = extensionProblem(new Uint8Array(c.raw));
    if (problem) return problem;
  }
  for (let i = 0; i + 1 < path.length; i++) {
    const cert = path[i]!;
    const issuer = path[i + 1]!;
    if (!issuer.ca) return "INVALID_CA";
    if (!cert.verify(issuer.publicKey)) return "CERT_SIGNATURE_FAILURE";
  }
  // RFC 5280 §4.2.1.9: a CA's pathLenConstraint bounds the intermediate CAs below it (the leaf excluded).
  for (let j = 1; j < path.length; j++) {
    const limit = parseCertInfo(new Uint8Array(path[j]!.raw)).pathLen;
    if (limit !== null && j - 1 > limit) return "PATH_LENGTH_EXCEEDED";
  }
  return null;
}
