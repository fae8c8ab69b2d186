import type { Dispatcher } from "undici";
import type { Logger } from "../log/logger.js";
import type { TrustAnchors } from "../pki/anchors.js";
import { isIssuedBy, isSelfIssued, type CertInfo } from "../pki/certificate.js";
import { freshness, iso, learnUrls, newAuthority, openFirstFetch, type Authority, type FirstFetch } from "./authority.js";
import { certificateFacts, type CertificateFacts } from "./certificate-facts.js";
import type { RevocationConfig } from "./config.js";
import { createOcspChecker, type OcspChecker, type OcspState } from "./ocsp.js";
import type { OcspAnswer } from "./ocsp-response.js";
import { createLocalCrlFiles } from "./local-files.js";
import { createLocalOffer } from "./local-offer.js";
import { createMissingCrlRule } from "./missing-crl.js";
import { createRefresher } from "./refresh.js";
import { authorityState, type AuthorityState } from "./state.js";
import type { RevocationStore } from "./store.js";
import { createVerdictTexts } from "./verdict-text.js";

/** A revocation verdict for a chain; `certIndex` counts from the leaf (0) as in chain policy verdicts. */
export type RevocationVerdict =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly code: "CERT_REVOKED" | "CERT_REVOCATION_UNAVAILABLE";
      readonly certIndex: number;
      readonly detail: string;
      /**
       * A CRL the chain needs is being obtained for the first time: not a verdict yet. `prepare` waits for it;
       * a caller that cannot wait (the handshake check) leaves the decision to one that can.
       */
      readonly pending?: true;
    };

export interface RevocationService {
  /**
   * The verdict for a verified chain (leaf first, issuers in order, the trust anchor last) at `now`: every
   * certificate below the root against its issuer's CRL, after the OCSP answer already held for it (when
   * `ocsp.enabled`). Synchronous and O(1) per certificate; an AC (or a certificate's OCSP status) seen for the
   * first time, or due, is fetched in the background, and this call decides with what it holds: a certificate
   * without a usable OCSP answer follows the CRL rules. A CRL being obtained for the first time gives a
   * `pending` verdict (see `prepare`). `handshake`: a connection-time check, whose requests are checked again
   * (a certificate let through unchecked is counted per request, not here).
   */
  check(chain: readonly CertInfo[], now: number, options?: { readonly handshake?: boolean }): RevocationVerdict;
  /**
   * Waits for what `check` needs for `chain` and does not hold yet: the first CRL of each AC in the chain
   * (started now if it never was, at most `firstFetchWaitMs`) and the OCSP answers (at most `ocsp.timeoutMs`);
   * concurrent callers share one fetch per AC and one exchange per certificate. Called once per connection and
   * client before the first check; never rejects. Resolves at once when everything is held, or after a failure.
   */
  prepare(chain: readonly CertInfo[], now: number): Promise<void>;
  /**
   * Reads the local CRL files and starts obtaining every CRL known before any client arrives (`revocation.urls`,
   * the root CRLs the trust-anchor files' ACs name); resolves when they are in, or failed, or after
   * `firstFetchWaitMs`. Then refreshes in the background: every known AC's CRL ahead of its nextUpdate, the
   * local files when they change, and OCSP answers in use ahead of their expiry. Never rejects.
   */
  start(): Promise<void>;
  /** Reads changed local CRL files and brings every known AC's CRL up to date now (adopting a stored one, or downloading when due), and the OCSP answers in use that are due. */
  refreshNow(): Promise<void>;
  state(): { readonly acs: readonly AuthorityState[]; readonly ocsp?: OcspState };
  close(): Promise<void>;
}

export interface RevocationDeps {
  readonly anchors: TrustAnchors;
  /**
   * ACs known in advance (those of the trust-anchor files): their own CRL is obtained once its location is known
   * (a local file, `revocation.urls`, or the first certificate they issue), their issuer's at start.
   */
  readonly issuers: readonly CertInfo[];
  readonly store: RevocationStore;
  readonly logger: Logger;
  readonly now: () => number;
  readonly dispatcher: Dispatcher;
}

const OK: RevocationVerdict = Object.freeze({ ok: true });
/** The background loop looks at the schedule at least this often and at most this often. */
const TICK_MIN_MS = 1_000;
const TICK_MAX_MS = 60_000;

/** A service that checks nothing (`mode: off`). */
export const REVOCATION_OFF: RevocationService = Object.freeze({
  check: () => OK,
  prepare: async () => undefined,
  start: async () => undefined,
  refreshNow: async () => undefined,
  state: () => ({ acs: [] }),
  close: async () => undefined,
});

/**
 * Revocation by CRL, with OCSP first when enabled (RFC 5280 §6.3, RFC 6960). Each AC's CRL comes from the
 * distribution points the certificates it issued name, `revocation.urls` and local CRL files; it is verified
 * against the AC's key, indexed by serial and shared through the store so one replica downloads for all. A
 * client's first connection waits (bounded) for the first CRL of each AC in its chain. A CRL past nextUpdate
 * serves `graceMs` more in soft-fail; a CRL that could not be obtained, or an AC with no CRL source at all,
 * lets certificates through in soft-fail (logged once per AC, counted) and rejects them in hard-fail. With
 * `ocsp.enabled`, a certificate whose AC offers OCSP is decided by a fresh, verified answer: good needs no CRL
 * (though a CRL that lists it still wins), revoked rejects; unknown, a failure or no answer yet leaves the
 * decision to the CRL.
 */
export function createRevocationService(config: RevocationConfig, deps: RevocationDeps): RevocationService {
  if (config.mode === "off") return REVOCATION_OFF;
  const { logger, now } = deps;
  const configured = new Map(Object.entries(config.urls ?? {}));
  const files = config.crlFiles.length > 0 ? createLocalCrlFiles(config.crlFiles, { logger, maxCrlBytes: config.maxCrlBytes }) : null;
  const authorities = new Map<string, Authority>();
  const facts = new WeakMap<CertInfo, CertificateFacts | Error>();
  const texts = createVerdictTexts();
  const withoutCrl = createMissingCrlRule(config, logger);
  const warnedResponders = new WeakSet<OcspAnswer>();
  const closing = new AbortController();
  const refresher = createRefresher({ config, store: deps.store, logger, now, dispatcher: deps.dispatcher, signal: closing.signal });
  const local = files ? createLocalOffer({ files, logger, now, install: refresher.installLocal }) : null;
  const ocsp: OcspChecker | null = config.ocsp.enabled ? createOcspChecker(config.ocsp, { logger, now, dispatcher: deps.dispatcher, signal: closing.signal }) : null;
  let timer: NodeJS.Timeout | undefined;
  let started = false;
  let stopped = false;

  /** The AC's record; `seen` when it issued a certificate of a client chain. */
  function authority(cert: CertInfo, seen = false): Authority {
    let a = authorities.get(cert.sha256);
    if (!a) {
      a = newAuthority(cert, configured.get(cert.sha256) ?? []);
      authorities.set(cert.sha256, a);
    }
    if (seen) a.seen = true;
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
      if (!(f instanceof Error) && learnUrls(a, f.crlUrls) && !a.crl) {
        a.nextAttemptAt = 0;
        // A source the last attempt did not have: the next connection waits for it, as for a first fetch.
        a.attempted = false;
        if (a.first && !a.first.open) a.first = null;
      }
    }
    return f;
  }

  /**
   * Where a chain's checks stop: a root has no issuer to ask, and a trust anchor that ends the chain is trusted
   * as configured (RFC 5280 §6.1: the trust anchor is an input to path validation, not a certificate in it). An
   * AC listed in the trust-anchor files with its root above it in the chain is checked against the root's CRL.
   */
  function isTop(chain: readonly CertInfo[], i: number): boolean {
    const cert = chain[i]!;
    return isSelfIssued(cert) || (i === chain.length - 1 && deps.anchors.bySha256.has(cert.sha256));
  }

  /** The AC's first CRL fetch (download and local files), started if it never was; null when there is none to wait for. */
  function firstFetch(a: Authority): FirstFetch | null {
    if (a.crl || stopped) return null;
    if (!a.first) {
      if (a.attempted) return null;
      const sources: Promise<void>[] = [];
      if (local) sources.push(local.offerAll(a));
      if (a.urls.length > 0) sources.push(refresher.refresh(a));
      a.first = openFirstFetch(Promise.all(sources), config.firstFetchWaitMs);
    }
    return a.first.open ? a.first : null;
  }

  function kick(a: Authority): void {
    if (stopped || firstFetch(a)) return;
    if (a.pending === null && now() >= a.nextAttemptAt) void refresher.refresh(a);
  }

  function unavailable(certIndex: number, detail: string): RevocationVerdict {
    return { ok: false, code: "CERT_REVOCATION_UNAVAILABLE", certIndex, detail };
  }

  /**
   * A delegated responder without id-pkix-ocsp-nocheck answers only while the AC's CRL (fresh, or within the
   * grace period) does not list it (RFC 6960 §4.2.2.2.1); otherwise its answers are set aside.
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

  function checkOne(cert: CertInfo, issuer: CertInfo, i: number, t: number, handshake: boolean): RevocationVerdict {
    const f = factsOf(cert, issuer);
    const a = authority(issuer, true);
    kick(a);
    if (f instanceof Error) return unavailable(i, `certificate ${i} ('${cert.label}'): serial number unreadable (${f.message.slice(0, 100)})`);
    const answer = ocsp?.answer(cert, issuer, f, t) ?? null;
    if (answer && answer.status !== "unknown" && responderCleared(answer, a, t)) {
      if (answer.status === "revoked") {
        return { ok: false, code: "CERT_REVOKED", certIndex: i, detail: `certificate ${i} ('${cert.label}') ${texts.ocsp(answer)}` };
      }
      // Good: the CRL is not needed, but one that lists the certificate still wins (a revocation stays true).
      const crl = a.crl?.parsed;
      const offset = crl?.revoked.find(f.serial, f.serialHash);
      if (!crl || offset === undefined) return OK;
      return { ok: false, code: "CERT_REVOKED", certIndex: i, detail: `certificate ${i} ('${cert.label}') ${texts.crl(crl, offset, issuer)}` };
    }
    if (!a.crl) return withoutCrl(a, i, handshake);
    const status = freshness(a, t, config);
    const offset = a.crl.parsed.revoked.find(f.serial, f.serialHash);
    if (offset !== undefined) {
      // A revocation stays true however old the CRL that lists it.
      return { ok: false, code: "CERT_REVOKED", certIndex: i, detail: `certificate ${i} ('${cert.label}') ${texts.crl(a.crl.parsed, offset, issuer)}` };
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
    const issuer = deps.anchors.certs.find((c) => c.sha256 !== ac.sha256 && isIssuedBy(ac, c));
    if (issuer) factsOf(ac, issuer);
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
    if (local) void local.scan(authorities.values());
    let delay = Math.min(TICK_MAX_MS, Math.max(TICK_MIN_MS, next - now()));
    if (local) delay = Math.min(delay, config.crlFilesCheckMs);
    timer = setTimeout(tick, delay * (0.9 + Math.random() * 0.2));
    timer.unref();
  }

  return {
    check(chain, t, options) {
      let firstUnavailable: RevocationVerdict | null = null;
      for (let i = 0; i < chain.length; i++) {
        if (isTop(chain, i)) break;
        const cert = chain[i]!;
        const issuer = chain[i + 1];
        const verdict = issuer ? checkOne(cert, issuer, i, t, options?.handshake === true) : unavailable(i, `certificate ${i} ('${cert.label}') has no issuer in the chain`);
        if (!verdict.ok && verdict.code === "CERT_REVOKED") return verdict;
        if (!verdict.ok) firstUnavailable ??= verdict;
      }
      return firstUnavailable ?? OK;
    },
    async prepare(chain, t) {
      const waits: Promise<void>[] = [];
      for (let i = 0; i < chain.length - 1; i++) {
        if (isTop(chain, i)) break;
        const cert = chain[i]!;
        const issuer = chain[i + 1]!;
        // Facts first: the certificate's distribution points tell where its issuer's CRL is.
        const f = factsOf(cert, issuer);
        const first = firstFetch(authority(issuer, true));
        if (first) waits.push(first.wait);
        const wait = !ocsp || f instanceof Error ? null : ocsp.prepare(cert, issuer, f, t);
        if (wait) waits.push(wait);
      }
      if (waits.length > 0) await Promise.all(waits);
    },
    async start() {
      if (started || stopped) return;
      started = true;
      await files?.scan();
      const waits = [...authorities.values()].flatMap((a) => firstFetch(a)?.wait ?? []);
      tick();
      await Promise.all(waits);
    },
    async refreshNow() {
      await local?.scan(authorities.values());
      await Promise.all([...authorities.values()].map((a) => Promise.all([firstFetch(a)?.wait, refresher.refresh(a)])));
      await ocsp?.refresh(now());
    },
    state() {
      const t = now();
      return { ...(ocsp ? { ocsp: ocsp.state() } : {}), acs: [...authorities.values()].map((a) => authorityState(a, t, config)) };
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
