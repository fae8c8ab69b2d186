import { createHash } from "node:crypto";
import { LRUCache } from "lru-cache";
import type { EdgeErrorCode } from "../errors.js";
import type { CnpjPolicy } from "../identity/cnpj.js";
import { parseIdentity } from "../identity/parse.js";
import type { ParticipantIdentity } from "../identity/types.js";
import type { ChainAccepted } from "../pki/policy.js";
import { x5tS256 } from "../pki/thumbprint.js";
import type { Presented } from "../tls/peer.js";

/** Why a presented certificate is not accepted: the stage, the rule, the reason code and where in the chain. */
export interface PeerFailure {
  readonly code: EdgeErrorCode;
  readonly stage: "pki" | "identity";
  readonly rule: string;
  readonly certIndex: number | undefined;
  readonly detail: string;
}

/** A client certificate that passed chain policy and identity parsing, with values derived once. */
export interface VerifiedClient {
  /** RFC 8705 §3.1 `x5t#S256` of the leaf. */
  readonly thumbprint: string;
  readonly identity: ParticipantIdentity;
  readonly verdict: ChainAccepted;
}

/** What the connection established about its peer; computed once per TLS connection. */
export type PeerState =
  | { readonly status: "absent" }
  | { readonly status: "rejected"; readonly failure: PeerFailure; readonly thumbprint: string }
  | { readonly status: "accepted"; readonly client: VerifiedClient };

export const ABSENT: PeerState = Object.freeze({ status: "absent" });

export interface PeerEvaluatorOptions {
  readonly evaluateChain: (presented: readonly Uint8Array[], opensslError: string | null) => import("../pki/policy.js").ChainVerdict;
  readonly allowOpenInsurance: boolean;
  /** `policy.cnpj`: a CNPJ that fails its check digits is flagged (default) or refused. */
  readonly cnpj?: CnpjPolicy;
  /** Distinct chains remembered; repeated connections from one client then cost one hash. */
  readonly cacheSize?: number;
}

/** In the cache under the leaf's key: verdicts for this leaf depend on the chain presented (see below). */
const PER_CHAIN = Symbol("per-chain");

/**
 * Chain policy + participant identity for what a connection presented. Results are remembered per
 * (leaf, OpenSSL verify result), so a client's next connection costs a hash and a map look-up instead of a
 * read of its chain and a policy run: reading the presented chain off the socket is the most expensive
 * per-connection step Node has (it copies and re-decodes every intermediate).
 *
 * Keying on the leaf rather than the whole chain is sound while OpenSSL's store holds roots only: the verify
 * result is in the key, and when OpenSSL accepted the chain, any other chain it accepts for the same leaf
 * certifies the same issuer name and key, so identity, key-usage and leaf checks cannot differ; only a
 * re-certified intermediate with different properties (say, a SHA-1 re-issue of the same AC) could, and the
 * first chain seen decides for it. When the trust-anchor files hold the leaf's AC, OpenSSL accepts the leaf
 * with or without that AC sent, and "the client sends its intermediate" is judged on what it sent: such a
 * verdict (`fromTrustFiles`) marks the leaf, and its connections are then keyed by the certificates they
 * presented too (their chain read each time). The clock-dependent validity check is not part of this result
 * (see `checkValidity`).
 */
export function createPeerEvaluator(options: PeerEvaluatorOptions) {
  const cache = new LRUCache<string, PeerState | typeof PER_CHAIN>({ max: options.cacheSize ?? 10_000 });

  function evaluate(presented: Presented): PeerState {
    if (presented.leaf === null) return ABSENT;
    // Node computed the leaf's SHA-256 when it read the certificate; hash it here only if it did not.
    const leafHash = presented.leafSha256 || createHash("sha256").update(presented.leaf).digest("hex");
    const leafKey = `${presented.opensslError ?? ""}|${leafHash}`;
    let chain: Uint8Array[] | undefined;
    let key = leafKey;
    let state = cache.get(leafKey);
    if (state === PER_CHAIN) {
      chain = presented.chain();
      key = chainKey(leafKey, chain);
      state = cache.get(key);
    }
    if (state === undefined || state === PER_CHAIN) {
      chain ??= presented.chain();
      const computed = compute(chain, presented.opensslError);
      if (computed.perChain && key === leafKey) {
        cache.set(leafKey, PER_CHAIN);
        key = chainKey(leafKey, chain);
      }
      state = computed.state;
      cache.set(key, state);
    }
    return state;
  }

  function compute(presented: readonly Uint8Array[], opensslError: string | null): { state: PeerState; perChain: boolean } {
    const thumbprint = x5tS256(presented[0]!);
    const verdict = options.evaluateChain(presented, opensslError);
    const perChain = verdict.fromTrustFiles === true;
    if (!verdict.ok) {
      return { perChain, state: freeze({ status: "rejected", thumbprint, failure: { code: verdict.code, stage: "pki", rule: verdict.rule, certIndex: verdict.certIndex, detail: verdict.detail } }) };
    }
    const parsed = parseIdentity(presented[0]!, { allowOpenInsurance: options.allowOpenInsurance, cnpj: options.cnpj });
    if (!parsed.ok) {
      return { perChain, state: freeze({ status: "rejected", thumbprint, failure: { code: parsed.code, stage: "identity", rule: "ofb-subject", certIndex: 0, detail: parsed.detail } }) };
    }
    return { perChain, state: freeze({ status: "accepted", client: { thumbprint, identity: parsed.identity, verdict } }) };
  }

  return { evaluate, clear: () => cache.clear() };
}

/** The leaf's key and the SHA-256 of every certificate sent after it, in order. */
function chainKey(leafKey: string, chain: readonly Uint8Array[]): string {
  const hash = createHash("sha256");
  for (const der of chain.slice(1)) hash.update(createHash("sha256").update(der).digest());
  return `${leafKey}|${hash.digest("hex")}`;
}

function freeze<T extends PeerState>(state: T): T {
  return Object.freeze(state);
}
