import type { EdgeErrorCode } from "../errors.js";
import type { TrustAnchors } from "./anchors.js";
import { OID, WEAK_SIGNATURE_ALGORITHMS, isSelfIssued, parseCertInfo, type CertInfo } from "./certificate.js";
import { buildChain, endsAtAnchor, type ChainLink } from "./chain.js";
import { icpBrasilRootNamed } from "./icp-brasil-roots.js";
import { mapVerifyError } from "./openssl-errors.js";

/** The rule a verdict names when it fails (stable, for logs and metrics). */
export type PolicyRule =
  | "certificate-present"
  | "parse"
  | "path-validation"
  | "transport-hierarchy"
  | "intermediate-required"
  | "issuer-allowed"
  | "signature-digest"
  | "key-strength"
  | "eku-client-auth"
  | "key-usage-digital-signature"
  | "validity";

export interface ChainFailure {
  readonly ok: false;
  readonly code: EdgeErrorCode;
  readonly rule: PolicyRule;
  /** 0 = the leaf; counts along the chain as built (presented certificates, then the anchor). */
  readonly certIndex: number | undefined;
  readonly detail: string;
  /** The chain as built, when the presented certificates could be read (`ofb-edge inspect` shows it). */
  readonly links?: readonly ChainLink[];
  /** See {@link ChainAccepted.fromTrustFiles}. */
  readonly fromTrustFiles?: boolean;
}

export interface ChainAccepted {
  readonly ok: true;
  /** Leaf first, then issuers in order, ending with the trust anchor when one was found. */
  readonly chain: readonly CertInfo[];
  /** {@link chain} with where each certificate came from. */
  readonly links: readonly ChainLink[];
  /** The certificates the client sent, in the order sent (leaf first). */
  readonly presented: readonly Uint8Array[];
  /** Latest notBefore / earliest notAfter along the chain, with the index that sets each. */
  readonly validFrom: { readonly at: number; readonly index: number };
  readonly validUntil: { readonly at: number; readonly index: number };
  /**
   * A CA of the chain (below the anchor) is one the trust-anchor files hold, so OpenSSL would have completed
   * the chain with it whether or not the client sent it: this verdict holds for these presented certificates
   * only, not for every connection of the same leaf.
   */
  readonly fromTrustFiles: boolean;
}

export type ChainVerdict = ChainAccepted | ChainFailure;

export interface PolicyOptions {
  readonly anchors: TrustAnchors;
  /**
   * SHA-256 (lowercase hex, no colons) of the roots of the transport hierarchy: a chain whose anchor is not
   * one of them is refused whatever the trust-anchor files hold (OFB certificate standard: transport
   * certificates are issued "através de cadeia V10").
   */
  readonly transportRoots: ReadonlySet<string>;
  readonly minRsaBits: number;
  /** SHA-256 hex (lowercase, no colons) of the ACs allowed to issue client certificates. */
  readonly allowedIssuers?: ReadonlySet<string> | undefined;
  readonly requireIntermediate: boolean;
  /** The injected clock (ms since the epoch); used here only to say which certificate an OpenSSL date error concerns. */
  readonly now: () => number;
}

/** Named curves accepted for non-RSA keys (DER of the curve OID, hex): P-256, P-384, P-521. */
const EC_CURVES: ReadonlyMap<string, number> = new Map([
  ["06082a8648ce3d030107", 256],
  ["06052b81040022", 384],
  ["06052b81040023", 521],
]);

const DIGITAL_SIGNATURE = 1;

/**
 * Certificate policy: OpenSSL validates the path to the trust anchors; then OFB policy runs on the chain as
 * built, each rule with a reason code and the failing certificate's index. The result depends only on the
 * presented certificates and OpenSSL's result, so it is computed once per connection (and can be cached per
 * distinct chain); validity against the clock is checked separately by {@link checkValidity}.
 *
 * Order: OpenSSL's verdict; the transport hierarchy (the anchor is a transport root); the client sent its
 * issuing AC; every AC is an allowed issuer (in the trust-anchor files when they hold ACs, and in
 * `allowedIssuers`); digests and keys; the leaf's extendedKeyUsage and keyUsage.
 */
export function createChainPolicy(options: PolicyOptions) {
  const { anchors } = options;
  if (options.transportRoots.size === 0) throw new TypeError("transportRoots must name at least one root: with none, every client is refused");
  return function evaluateChain(presented: readonly Uint8Array[], opensslError: string | null): ChainVerdict {
    if (presented.length === 0) {
      return fail("CERT_REQUIRED", "certificate-present", undefined, "no client certificate was presented");
    }
    let sent: CertInfo[];
    try {
      sent = presented.map((der) => parseCertInfo(der));
    } catch (cause) {
      return fail("CERT_MALFORMED", "parse", undefined, `a presented certificate cannot be parsed (${(cause as Error).message.slice(0, 120)})`);
    }
    const links = buildChain(sent, anchors);
    const chain = links.map((l) => l.cert);
    const leaf = chain[0]!;
    const fromTrustFiles = links.some((l, i) => i > 0 && l.inTrustFiles && !anchors.bySha256.has(l.cert.sha256));
    const refuse = (code: EdgeErrorCode, rule: PolicyRule, certIndex: number | undefined, detail: string): ChainFailure => ({ ...fail(code, rule, certIndex, detail), links, fromTrustFiles });

    if (opensslError !== null) {
      const refined = refineVerifyError(opensslError, chain) ?? otherIcpBrasilHierarchy(opensslError, chain, options.transportRoots);
      if (refined) return refuse(refined.code, refined.rule, refined.certIndex, `${refined.detail} [OpenSSL ${opensslError.slice(0, 64)}]`);
      const mapped = mapVerifyError(opensslError, presented.length);
      return refuse(mapped.code, "path-validation", locate(mapped.code, chain, options.now()), `${mapped.text} [OpenSSL ${opensslError.slice(0, 64)}]`);
    }
    // OpenSSL found a path to an anchor; ours must end at one too, or the two disagree: fail closed.
    if (!endsAtAnchor(links, anchors)) {
      return refuse("CERT_UNTRUSTED", "path-validation", chain.length - 1, `the chain as built ends at '${chain[chain.length - 1]!.label}', which is not a root of the trust-anchor files`);
    }
    const anchorIndex = chain.length - 1;
    const anchor = chain[anchorIndex]!;
    if (!options.transportRoots.has(anchor.sha256)) {
      return refuse(
        "CERT_HIERARCHY_NOT_TRANSPORT",
        "transport-hierarchy",
        anchorIndex,
        `the chain ends at root '${anchor.label}' (SHA-256 ${anchor.sha256}), which is not a transport root (policy.transportRoots): OFB transport certificates are issued under the transport hierarchy (ICP-Brasil root v10), not under the signing or other hierarchies`,
      );
    }

    // OFB certificate standard: the client certificate "precisa ser enviado com a cadeia intermediária".
    // Judged on what the client sent: the trust-anchor files may hold its AC, and OpenSSL completes from them.
    if (options.requireIntermediate && !isSelfIssued(leaf)) {
      if (anchorIndex === 1) {
        return refuse("CERT_CHAIN_INCOMPLETE", "intermediate-required", 1, `the client certificate is issued directly by the trust anchor '${anchor.label}'; OFB chains are leaf → AC → root`);
      }
      if (!links[1]!.sent) {
        const ac = `'${chain[1]!.label}'`;
        const what = presented.length === 1 ? `the client sent only its leaf: its issuing AC ${ac} must be sent with it` : `the client sent ${presented.length} certificates, none of them its issuing AC ${ac}, which must be sent with the leaf`;
        return refuse("CERT_CHAIN_INCOMPLETE", "intermediate-required", 1, `${what} (the trust-anchor files complete a chain, they do not stand in for the client's)`);
      }
    }
    if (anchors.issuers.length > 0) {
      const outside = links.findIndex((l, i) => i > 0 && i < anchorIndex && !l.inTrustFiles);
      if (outside > 0) {
        return refuse("CERT_ISSUER_NOT_ALLOWED", "issuer-allowed", outside, `AC '${chain[outside]!.label}' is not one of the ACs in the trust-anchor files (the ACs a transport certificate may chain through)`);
      }
    }
    const issuer = anchorIndex > 1 ? chain[1] : undefined;
    if (options.allowedIssuers && (issuer === undefined || !options.allowedIssuers.has(issuer.sha256))) {
      return refuse("CERT_ISSUER_NOT_ALLOWED", "issuer-allowed", 1, `issuing AC '${issuer?.label ?? "unknown"}' is not in policy.allowedIssuers`);
    }

    for (let i = 0; i < chain.length; i++) {
      const c = chain[i]!;
      const weak = weakDigest(c);
      if (weak) return refuse("CERT_SIGNATURE_WEAK", "signature-digest", i, `certificate ${i} ('${c.label}') is signed with ${weak}`);
      const key = keyProblem(c, options.minRsaBits);
      if (key) return refuse("CERT_KEY_TOO_WEAK", "key-strength", i, `certificate ${i} ('${c.label}'): ${key}`);
    }

    if (!leaf.extendedKeyUsage?.includes(OID.clientAuth)) {
      return refuse("CERT_EKU_CLIENT_AUTH_MISSING", "eku-client-auth", 0, leaf.extendedKeyUsage ? "extendedKeyUsage does not include clientAuth" : "no extendedKeyUsage extension (clientAuth required)");
    }
    if (leaf.keyUsage === null || (leaf.keyUsage & DIGITAL_SIGNATURE) === 0) {
      return refuse("CERT_KEY_USAGE_INVALID", "key-usage-digital-signature", 0, leaf.keyUsage === null ? "no keyUsage extension (digitalSignature required)" : "keyUsage lacks digitalSignature");
    }

    let validFrom = { at: -Infinity, index: 0 };
    let validUntil = { at: Infinity, index: 0 };
    chain.forEach((c, index) => {
      if (c.notBefore.getTime() > validFrom.at) validFrom = { at: c.notBefore.getTime(), index };
      if (c.notAfter.getTime() < validUntil.at) validUntil = { at: c.notAfter.getTime(), index };
    });
    return { ok: true, chain, links, presented, validFrom, validUntil, fromTrustFiles };
  };
}

/**
 * Validity against the injected clock ("verify at T": RFC 5280 §6.1.3 (a)(2), at the validation time). Cheap enough for every request,
 * so a keep-alive connection stops being served the second its certificate expires.
 */
export function checkValidity(verdict: ChainAccepted, nowMs: number): ChainFailure | null {
  if (nowMs < verdict.validFrom.at) {
    const c = verdict.chain[verdict.validFrom.index]!;
    return fail("CERT_NOT_YET_VALID", "validity", verdict.validFrom.index, `certificate ${verdict.validFrom.index} ('${c.label}') is valid from ${c.notBefore.toISOString()}`);
  }
  if (nowMs > verdict.validUntil.at) {
    const c = verdict.chain[verdict.validUntil.index]!;
    return fail("CERT_EXPIRED", "validity", verdict.validUntil.index, `certificate ${verdict.validUntil.index} ('${c.label}') expired at ${c.notAfter.toISOString()}`);
  }
  return null;
}

function fail(code: EdgeErrorCode, rule: PolicyRule, certIndex: number | undefined, detail: string): ChainFailure {
  return { ok: false, code, rule, certIndex, detail };
}

/**
 * OpenSSL verify results that lump several rules together, split by looking at the chain itself, so the
 * reason code names the rule that failed. INVALID_PURPOSE covers the leaf's extendedKeyUsage and keyUsage
 * (OpenSSL's SSL-client purpose wants digitalSignature) and an issuer that is not a CA; Node reports
 * OpenSSL's CA_MD_TOO_WEAK as UNSPECIFIED. Anything else is left to {@link mapVerifyError}.
 */
function refineVerifyError(opensslError: string, chain: readonly CertInfo[]): ChainFailure | null {
  const leaf = chain[0]!;
  if (opensslError === "INVALID_PURPOSE") {
    if (leaf.extendedKeyUsage !== null && !leaf.extendedKeyUsage.includes(OID.clientAuth)) return null;
    if (leaf.keyUsage !== null && (leaf.keyUsage & DIGITAL_SIGNATURE) === 0) {
      return fail("CERT_KEY_USAGE_INVALID", "key-usage-digital-signature", 0, "keyUsage lacks digitalSignature");
    }
    const notCa = chain.findIndex((c, i) => i > 0 && !c.isCa);
    if (notCa > 0) return fail("CERT_CHAIN_INVALID", "path-validation", notCa, `certificate ${notCa} ('${chain[notCa]!.label}') issued another certificate but is not a CA (basicConstraints)`);
    return null;
  }
  if (opensslError === "UNSPECIFIED") {
    const i = indexOf(chain, (c) => weakDigest(c) !== null);
    if (i !== undefined) return fail("CERT_SIGNATURE_WEAK", "signature-digest", i, `certificate ${i} ('${chain[i]!.label}') is signed with ${weakDigest(chain[i]!)}`);
  }
  return null;
}

/** OpenSSL verify results that mean "the chain does not reach a trust anchor". */
const NO_ANCHOR: ReadonlySet<string> = new Set(["UNABLE_TO_GET_ISSUER_CERT", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "SELF_SIGNED_CERT_IN_CHAIN"]);

/**
 * A chain that reaches no anchor because it belongs to another ICP-Brasil hierarchy: its top certificate is, or
 * is issued by, an ICP-Brasil root ("Autoridade Certificadora Raiz Brasileira vN") that is not a transport
 * root — typically an e-CNPJ of root v5 (it carries clientAuth) presented to an edge that loads the transport
 * bundle. The name alone decides only which refusal is reported, never whether the chain is refused.
 */
function otherIcpBrasilHierarchy(opensslError: string, chain: readonly CertInfo[], transportRoots: ReadonlySet<string>): ChainFailure | null {
  if (!NO_ANCHOR.has(opensslError)) return null;
  const top = chain[chain.length - 1]!;
  const rootName = isSelfIssued(top) ? top.label : top.issuerLabel;
  const root = icpBrasilRootNamed(rootName);
  if (root === null || transportRoots.has(root.sha256)) return null;
  return fail(
    "CERT_HIERARCHY_NOT_TRANSPORT",
    "transport-hierarchy",
    chain.length - 1,
    `the chain leads to ICP-Brasil root ${root.name} ('${rootName}'), which is not a transport root (policy.transportRoots): OFB transport certificates are issued under root v10, not under the signing or other hierarchies`,
  );
}

/** Which certificate an OpenSSL failure most likely concerns, when we can tell from the chain itself. */
function locate(code: EdgeErrorCode, chain: readonly CertInfo[], now: number): number | undefined {
  if (code === "CERT_EXPIRED") return indexOf(chain, (c) => c.notAfter.getTime() < now);
  if (code === "CERT_NOT_YET_VALID") return indexOf(chain, (c) => c.notBefore.getTime() > now);
  if (code === "CERT_SIGNATURE_WEAK") return indexOf(chain, (c) => weakDigest(c) !== null);
  if (code === "CERT_SELF_SIGNED" || code === "CERT_CHAIN_INCOMPLETE" || code === "CERT_INVALID_PURPOSE") return 0;
  return undefined;
}

function indexOf(chain: readonly CertInfo[], predicate: (c: CertInfo) => boolean): number | undefined {
  const i = chain.findIndex(predicate);
  return i < 0 ? undefined : i;
}

function weakDigest(c: CertInfo): string | null {
  const named = WEAK_SIGNATURE_ALGORITHMS.get(c.signatureAlgorithm);
  if (named) return named;
  if (c.signatureAlgorithm === OID.rsassaPss && c.signatureHash === OID.sha1) return "RSASSA-PSS with SHA-1";
  return null;
}

function keyProblem(c: CertInfo, minRsaBits: number): string | null {
  if (c.rsaBits !== null) return c.rsaBits < minRsaBits ? `RSA key of ${c.rsaBits} bits (minimum ${minRsaBits})` : null;
  if (c.ecCurve !== null) return EC_CURVES.has(c.ecCurve) ? null : "EC key on an unsupported curve";
  return `unsupported public key algorithm ${c.keyAlgorithm}`;
}
