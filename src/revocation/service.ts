import type { Dispatcher } from "undici";
import type { Logger } from "../log/logger.js";
import type { TrustAnchors } from "../pki/anchors.js";
import { isIssuedBy, isSelfIssued, type CertInfo } from "../pki/certificate.js";
import { freshness, iso, learnUrls, newAuthority, type Authority, type Freshness } from "./authority.js";
import { certificateFacts, type CertificateFacts } from "./certificate-facts.js";
import type { RevocationConfig } from "./config.js";
import { revokedEntry, type ParsedCrl } from "./crl.js";
import { createOcspChecker, type OcspChecker, type OcspState } from "./ocsp.js";
import type { OcspAnswer } from "./ocsp-response.js";
import { createRefresher } from "./refresh.js";
import type { RevocationStore } from "./store.js";

/** A revocation verdict for a chain; `certIndex` counts from the leaf (0) as in chain policy verdicts. */
export type RevocationVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: "CERT_REVOKED" | "CERT_REVOCATION_UNAVAILABLE"; readonly certIndex: number; readonly detail: string };

/** One AC's CRL as this replica holds it (readiness, metrics, CLI). */
export interface AuthorityState {
  /** The AC's CN (operator-facing only). */
  readonly ac: string;
  readonly sha256: string;
  readonly status: Freshness;
  readonly thisUpdate?: string;
  readonly nextUpdate?: string;
  /** now − thisUpdate. */
  readonly ageMs?: number;
  readonly serials?: number;
  readonly source?: string;
  readonly urls: readonly string[];
  readonly lastError?: string;
}

export interface RevocationService {
  /**
   * The verdict for a verified chain (leaf first, issuers in order, the trust anchor last) at `now`: every
   * certificate below the anchor against its issuer's CRL, after the OCSP answer already held for it (when
   * `ocsp.enabled`). Synchronous and O(1) per certificate; an AC (or a certificate's OCSP status) seen for the
   * first time, or due, is fetched in the background, and this call decides with what it holds: a certificate
   * without a usable OCSP answer follows the CRL rules (the strict listener's handshake check works that way).
   */
  check(chain: readonly CertInfo[], now: number): RevocationVerdict;
  /**
   * Obtains the OCSP answers `check` would use for `chain` and does not hold yet (at most `ocsp.timeoutMs`;
   * concurrent callers share one exchange per certificate). Called once per connection and client before the first check;
   * never rejects. Resolves at once with OCSP off, when every answer is held, or after a recent failure.
   */
  prepare(chain: readonly CertInfo[], now: number): Promise<void>;
  /** Background refresh of every known AC's CRL ahead of its nextUpdate, and of OCSP answers in use ahead of their expiry. */
  start(): void;
  /** Brings every known AC's CRL up to date now (adopting a stored one, or downloading when due), and the OCSP answers in use that are due. */
  refreshNow(): Promise<void>;
  state(): { readonly acs: readonly AuthorityState[]; readonly ocsp?: OcspState };
  close(): Promise<void>;
}

export interface RevocationDeps {
  readonly anchors: TrustAnchors;
  /** ACs known in advance (e.g. the production SSL ACs): their issuer's CRL is prefetched at start. */
  readonly issuers: readonly CertInfo[];
  readonly store: RevocationStore;
  readonly logger: Logger;
  readonly now: () => number;
  readonly dispatcher: Dispatcher;
}

const OK: RevocationVerdict = Object.freeze({ ok: true });
/** Decoded revoked entries remembered per CRL (a revoked client retrying costs no ASN.1 decoding). */
const MAX_DECODED = 1_000;
/** The background loop looks at the schedule at least this often and at most this often. */
const TICK_MIN_MS = 1_000;
const TICK_MAX_MS = 60_000;

/** A service that checks nothing (`mode: off`). */
export const REVOCATION_OFF: RevocationService = Object.freeze({
  check: () => OK,
  prepare: async () => undefined,
  start: () => undefined,
  refreshNow: async () => undefined,
  state: () => ({ acs: [] }),
  close: async () => undefined,
});

/**
 * Revocation by CRL, with OCSP first when enabled (DESIGN D4, icp-brasil-facts §7). Each AC's CRL is downloaded from the distribution points
 * the certificates it issued name (plus `revocation.urls`), verified against the AC's key, indexed by serial
 * and shared through the store so one replica downloads for all. A CRL past nextUpdate serves `graceMs` more
 * in soft-fail; a CRL never obtained lets certificates through in soft-fail (logged once per AC) and rejects
 * them in hard-fail. With `ocsp.enabled`, a certificate whose AC offers OCSP is decided by a fresh, verified
 * answer: good needs no CRL (though a CRL that lists it still wins), revoked rejects; unknown, a failure or no
 * answer yet leaves the decision to the CRL.
 */
export function createRevocationService(config: RevocationConfig, deps: RevocationDeps): RevocationService {
  if (config.mode === "off") return REVOCATION_OFF;
  const { logger, now } = deps;
  const configured = new Map(Object.entries(config.urls ?? {}));
  const authorities = new Map<string, Authority>();
  const facts = new WeakMap<CertInfo, CertificateFacts | Error>();
  const decoded = new WeakMap<ParsedCrl, Map<number, string>>();
  const ocspTexts = new WeakMap<OcspAnswer, string>();
  const warnedResponders = new WeakSet<OcspAnswer>();
  const closing = new AbortController();
  const refresher = createRefresher({ config, store: deps.store, logger, now, dispatcher: deps.dispatcher, signal: closing.signal });
  const ocsp: OcspChecker | null = config.ocsp.enabled ? createOcspChecker(config.ocsp, { logger, now, dispatcher: deps.dispatcher, signal: closing.signal }) : null;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  function authority(cert: CertInfo): Authority {
    let a = authorities.get(cert.sha256);
    if (!a) {
      a = newAuthority(cert, configured.get(cert.sha256) ?? []);
      authorities.set(cert.sha256, a);
    }
    return a;
  }

  /** The certificate's serial and distribution points, read once per CertInfo; its URLs teach the issuer's. */
  function factsOf(cert: CertInfo, issuer: CertInfo): CertificateFacts | Error {
    let f = facts.get(cert);
    if (f === undefined) {
      try {
        f = certificateFacts(cert.der);
      } catch (err) {
        f = err as Error;
      }
      facts.set(cert, f);
      const a = authority(issuer);
      if (!(f instanceof Error) && learnUrls(a, f.crlUrls) && !a.crl) a.nextAttemptAt = 0;
    }
    return f;
  }

  function isAnchorOrRoot(cert: CertInfo): boolean {
    return deps.anchors.bySha256.has(cert.sha256) || isSelfIssued(cert);
  }

  function kick(a: Authority): void {
    if (!stopped && a.pending === null && now() >= a.nextAttemptAt) void refresher.refresh(a);
  }

  /** "was revoked at …, reason … (CRL of …)": decoded once per listed certificate seen. */
  function revocation(crl: ParsedCrl, offset: number, issuer: CertInfo): string {
    let memo = decoded.get(crl);
    if (!memo || memo.size >= MAX_DECODED) decoded.set(crl, (memo = new Map()));
    let text = memo.get(offset);
    if (text === undefined) {
      const entry = revokedEntry(crl, offset);
      memo.set(offset, (text = `was revoked at ${entry.revokedAt.toISOString()}, reason ${entry.reason} (CRL of '${issuer.label}', thisUpdate ${iso(crl.thisUpdate)})`));
    }
    return text;
  }

  /** "was revoked at …, reason … (OCSP, signed by …, thisUpdate …)": built once per answer. */
  function ocspRevocation(answer: OcspAnswer): string {
    let text = ocspTexts.get(answer);
    if (text === undefined) {
      text = `was revoked at ${iso(answer.revokedAt ?? answer.thisUpdate)}, reason ${answer.reason ?? "unspecified"} (OCSP response signed by '${answer.signer}', thisUpdate ${iso(answer.thisUpdate)})`;
      ocspTexts.set(answer, text);
    }
    return text;
  }

  function unavailable(certIndex: number, detail: string): RevocationVerdict {
    return { ok: false, code: "CERT_REVOCATION_UNAVAILABLE", certIndex, detail };
  }

  /**
   * A delegated responder without id-pkix-ocsp-nocheck answers only while the AC's CRL (fresh, or within the
   * grace period) does not list it (RFC 6960 §4.2.2.2.1, icp-brasil-facts §7); otherwise its answers are set aside.
   */
  function responderCleared(answer: OcspAnswer, a: Authority, t: number): boolean {
    const responder = answer.unchecked;
    if (!responder) return true;
    const status = freshness(a, t, config);
    const listed = a.crl?.parsed.revoked.find(responder.serial, responder.serialHash) !== undefined;
    if (listed && !warnedResponders.has(answer)) {
      warnedResponders.add(answer);
      logger.error({ kind: "revocation", event: "ocsp-responder-revoked", ac: a.cert.label, sha256: a.sha256, responder: responder.label }, "the delegated OCSP responder is on its AC's CRL: its answers are ignored");
    }
    return !listed && (status === "fresh" || status === "stale-grace");
  }

  function checkOne(cert: CertInfo, issuer: CertInfo, i: number, t: number): RevocationVerdict {
    const f = factsOf(cert, issuer);
    const a = authority(issuer);
    kick(a);
    if (f instanceof Error) return unavailable(i, `certificate ${i} ('${cert.label}'): serial number unreadable (${f.message.slice(0, 100)})`);
    const answer = ocsp?.answer(cert, issuer, f, t) ?? null;
    if (answer && answer.status !== "unknown" && responderCleared(answer, a, t)) {
      if (answer.status === "revoked") {
        return { ok: false, code: "CERT_REVOKED", certIndex: i, detail: `certificate ${i} ('${cert.label}') ${ocspRevocation(answer)}` };
      }
      // Good: the CRL is not needed, but one that lists the certificate still wins (a revocation stays true).
      const crl = a.crl?.parsed;
      const offset = crl?.revoked.find(f.serial, f.serialHash);
      if (!crl || offset === undefined) return OK;
      return { ok: false, code: "CERT_REVOKED", certIndex: i, detail: `certificate ${i} ('${cert.label}') ${revocation(crl, offset, issuer)}` };
    }
    const status = freshness(a, t, config);
    if (!a.crl) {
      if (config.onStale === "hard-fail") return unavailable(i, `no CRL of '${issuer.label}' has been obtained${a.lastError ? ` (${a.lastError.slice(0, 200)})` : ""}`);
      if (!a.warnedMissing) {
        a.warnedMissing = true;
        logger.warn({ kind: "revocation", event: "crl-missing", ac: issuer.label, sha256: a.sha256, reason: a.lastError }, "no CRL for this AC yet; its certificates are accepted unchecked (onStale soft-fail)");
      }
      return OK;
    }
    const offset = a.crl.parsed.revoked.find(f.serial, f.serialHash);
    if (offset !== undefined) {
      // A revocation stays true however old the CRL that lists it.
      return { ok: false, code: "CERT_REVOKED", certIndex: i, detail: `certificate ${i} ('${cert.label}') ${revocation(a.crl.parsed, offset, issuer)}` };
    }
    if (status === "fresh") return OK;
    const nextUpdate = a.crl.parsed.nextUpdate;
    if (a.warnedStale !== nextUpdate) {
      a.warnedStale = nextUpdate;
      const level = status === "stale" ? "error" : "warn";
      logger[level]({ kind: "revocation", event: `crl-${status}`, ac: issuer.label, sha256: a.sha256, nextUpdate: iso(nextUpdate), reason: a.lastError }, status === "stale" ? "CRL stale: certificates of this AC are rejected" : "CRL past nextUpdate: served within the grace period");
    }
    if (status === "stale-grace") return OK;
    return unavailable(i, `the CRL of '${issuer.label}' expired at ${iso(nextUpdate)} and no newer one has been obtained`);
  }

  // ACs known in advance, and where their own issuer's CRL is (their distribution points).
  for (const ac of deps.issuers) {
    authority(ac);
    const root = deps.anchors.certs.find((anchor) => isIssuedBy(ac, anchor));
    if (root && !deps.anchors.bySha256.has(ac.sha256)) factsOf(ac, root);
  }
  for (const anchor of deps.anchors.certs) if (configured.has(anchor.sha256)) authority(anchor);

  const offChange = deps.store.onChange((ac) => {
    const targets = ac === null ? [...authorities.values()] : [authorities.get(ac)].filter((a) => a !== undefined);
    for (const a of targets) void refresher.adopt(a);
  });

  function tick(): void {
    if (stopped) return;
    let next = Infinity;
    for (const a of authorities.values()) {
      kick(a);
      next = Math.min(next, a.nextAttemptAt);
    }
    if (ocsp) {
      void ocsp.refresh(now());
      next = Math.min(next, ocsp.nextDue());
    }
    const delay = Math.min(TICK_MAX_MS, Math.max(TICK_MIN_MS, next - now()));
    timer = setTimeout(tick, delay * (0.9 + Math.random() * 0.2));
    timer.unref();
  }

  return {
    check(chain, t) {
      let firstUnavailable: RevocationVerdict | null = null;
      for (let i = 0; i < chain.length; i++) {
        const cert = chain[i]!;
        // The anchor is trusted as configured, and a root has no issuer to ask: nothing from there up is checked.
        if (isAnchorOrRoot(cert)) break;
        const issuer = chain[i + 1];
        const verdict = issuer ? checkOne(cert, issuer, i, t) : unavailable(i, `certificate ${i} ('${cert.label}') has no issuer in the chain`);
        if (!verdict.ok && verdict.code === "CERT_REVOKED") return verdict;
        if (!verdict.ok) firstUnavailable ??= verdict;
      }
      return firstUnavailable ?? OK;
    },
    async prepare(chain, t) {
      if (!ocsp) return;
      const waits: Promise<void>[] = [];
      for (let i = 0; i < chain.length - 1; i++) {
        const cert = chain[i]!;
        if (isAnchorOrRoot(cert)) break;
        const issuer = chain[i + 1]!;
        const f = factsOf(cert, issuer);
        const wait = f instanceof Error ? null : ocsp.prepare(cert, issuer, f, t);
        if (wait) waits.push(wait);
      }
      if (waits.length > 0) await Promise.all(waits);
    },
    start() {
      if (timer || stopped) return;
      tick();
    },
    async refreshNow() {
      await Promise.all([...authorities.values()].map((a) => refresher.refresh(a)));
      await ocsp?.refresh(now());
    },
    state() {
      const t = now();
      return {
        ...(ocsp ? { ocsp: ocsp.state() } : {}),
        acs: [...authorities.values()].map((a): AuthorityState => {
          const base = { ac: a.cert.label, sha256: a.sha256, status: freshness(a, t, config), urls: [...a.urls], ...(a.lastError ? { lastError: a.lastError } : {}) };
          if (!a.crl) return base;
          const { parsed, source } = a.crl;
          return { ...base, thisUpdate: iso(parsed.thisUpdate), nextUpdate: iso(parsed.nextUpdate), ageMs: t - parsed.thisUpdate, serials: parsed.revoked.size, source: source.url };
        }),
      };
    },
    async close() {
      stopped = true;
      if (timer) clearTimeout(timer);
      offChange();
      closing.abort();
      await Promise.allSettled([...authorities.values()].map((a) => a.pending));
      await ocsp?.close();
    },
  };
}
