import { randomBytes } from "node:crypto";
import { LRUCache } from "lru-cache";
import type { Dispatcher } from "undici";
import type { Logger } from "../log/logger.js";
import type { CertInfo } from "../pki/certificate.js";
import { iso } from "./authority.js";
import type { CertificateFacts } from "./certificate-facts.js";
import type { OcspConfig } from "./config.js";
import { OcspError } from "./ocsp-error.js";
import { OcspTimeout, postOcspRequest } from "./ocsp-http.js";
import { keyHash, nonceValue, ocspCertId, ocspRequestDer, type OcspCertId } from "./ocsp-request.js";
import { verifyOcspResponse, type OcspAnswer } from "./ocsp-response.js";
import type { IssuerKey } from "./ocsp-signer.js";
import { publicKeyOf } from "./signature.js";

export type OcspOutcome = "good" | "revoked" | "unknown" | "timeout" | "error";

/** One responder as this replica last saw it (readiness, CLI). */
export interface OcspResponderState {
  readonly url: string;
  /** CN of the AC whose certificates it answered for (operator-facing only). */
  readonly ac: string;
  readonly lastOutcome: OcspOutcome;
  readonly lastError?: string;
  readonly at: string;
}

export interface OcspState {
  /** Certificates with an entry (an answer, or a failure being remembered). */
  readonly cacheSize: number;
  /** Exchanges since start, by outcome. */
  readonly requests: Readonly<Record<OcspOutcome, number>>;
  readonly responders: readonly OcspResponderState[];
}

/**
 * OCSP answers per certificate, as the revocation service consults them. `answer` is synchronous (a cache
 * look-up); exchanges run in `prepare` (awaited once per connection and client) or in the background.
 */
export interface OcspChecker {
  /** The answer that decides for `cert` at `now`, or null (the CRL decides). Starts a background exchange when one is due. */
  answer(cert: CertInfo, issuer: CertInfo, facts: CertificateFacts, now: number): OcspAnswer | null;
  /** An exchange to wait for: `cert` has no answer to use and its last failure is not being remembered; else null. */
  prepare(cert: CertInfo, issuer: CertInfo, facts: CertificateFacts, now: number): Promise<void> | null;
  /** Starts the exchanges due for certificates presented since their last one; resolves when they end. */
  refresh(now: number): Promise<void>;
  /** When the next background exchange falls due (Infinity when none is waiting). */
  nextDue(): number;
  state(): OcspState;
  close(): Promise<void>;
}

export interface OcspDeps {
  readonly logger: Logger;
  readonly now: () => number;
  readonly dispatcher: Dispatcher;
  /** Aborts exchanges in flight (the service closing). */
  readonly signal: AbortSignal;
}

/** What this replica knows about one certificate's OCSP status. */
interface Entry {
  readonly serial: string;
  readonly url: string;
  readonly certId: OcspCertId;
  readonly issuer: IssuerKey;
  answer: OcspAnswer | null;
  /** Injected clock: no exchange before this (refresh time of the answer held, or a failure remembered). */
  retryAt: number;
  pending: Promise<void> | null;
  /** Presented since the last exchange started: only such certificates are refreshed in the background. */
  used: boolean;
}

/** Responders tracked for state() (ICP-Brasil ACs run one or two each). */
const MAX_RESPONDERS = 256;

/**
 * RFC 6960 client for the certificates whose AC offers OCSP (its URL in their Authority Information Access, or
 * `revocation.ocsp.responders`). One exchange at a time per certificate (single-flight); an answer is kept until
 * it expires (nextUpdate, or thisUpdate + maxAgeMs) in a bounded LRU cache and asked again `refreshBeforeMs`
 * ahead for certificates still presented; a failure is remembered for `failureCacheMs`, the CRL deciding meanwhile.
 */
export function createOcspChecker(config: OcspConfig, deps: OcspDeps): OcspChecker {
  const { logger, now } = deps;
  const overrides = new Map(Object.entries(config.responders ?? {}));
  const cache = new LRUCache<string, Entry>({ max: config.cacheMaxEntries });
  const issuers = new Map<string, IssuerKey | Error>();
  const responders = new Map<string, OcspResponderState>();
  const requests: Record<OcspOutcome, number> = { good: 0, revoked: 0, unknown: 0, timeout: 0, error: 0 };
  const inFlight = new Set<Promise<void>>();

  function issuerKey(issuer: CertInfo): IssuerKey | Error {
    let k = issuers.get(issuer.sha256);
    if (k === undefined) {
      try {
        k = { cert: issuer, key: publicKeyOf(issuer), keyHash: keyHash(issuer.der) };
      } catch (err) {
        k = err as Error;
        logger.warn({ kind: "revocation", event: "ocsp-issuer-unusable", ac: issuer.label, sha256: issuer.sha256, reason: k.message }, "this AC's key cannot be read: its certificates are checked by CRL only");
      }
      issuers.set(issuer.sha256, k);
    }
    return k;
  }

  function entry(cert: CertInfo, issuer: CertInfo, facts: CertificateFacts): Entry | null {
    const held = cache.get(cert.sha256);
    if (held) return held;
    const url = overrides.get(issuer.sha256) ?? facts.ocspUrls[0];
    if (url === undefined) return null;
    const key = issuerKey(issuer);
    if (key instanceof Error) return null;
    const e: Entry = { serial: Buffer.from(facts.serial).toString("hex"), url, certId: ocspCertId(cert, facts, key.keyHash), issuer: key, answer: null, retryAt: 0, pending: null, used: false };
    cache.set(cert.sha256, e);
    return e;
  }

  /** A revocation stays true however old the answer; good and unknown decide until they expire. */
  function usable(e: Entry, t: number): OcspAnswer | null {
    const a = e.answer;
    if (!a) return null;
    return a.status === "revoked" || t <= a.expiresAt ? a : null;
  }

  function due(e: Entry, t: number): boolean {
    return e.pending === null && t >= e.retryAt && !deps.signal.aborted;
  }

  function exchange(e: Entry): Promise<void> {
    e.used = false;
    const p = run(e).finally(() => {
      e.pending = null;
      inFlight.delete(p);
    });
    e.pending = p;
    inFlight.add(p);
    return p;
  }

  async function run(e: Entry): Promise<void> {
    const nonce = config.nonce ? randomBytes(32) : null;
    try {
      const body = await postOcspRequest(e.url, ocspRequestDer(e.certId, nonce), { timeoutMs: config.timeoutMs, maxBytes: config.maxResponseBytes, dispatcher: deps.dispatcher, signal: deps.signal });
      const t = now();
      const answer = await verifyOcspResponse(body, { certId: e.certId, issuer: e.issuer, nonce: nonce ? nonceValue(nonce) : null, now: t, maxAgeMs: config.maxAgeMs });
      // A lagging responder or a replayed response never replaces a newer answer.
      if (e.answer && answer.thisUpdate < e.answer.thisUpdate) throw new OcspError(`older (thisUpdate ${iso(answer.thisUpdate)}) than the answer held (${iso(e.answer.thisUpdate)})`);
      e.answer = answer;
      e.retryAt = Math.max(answer.expiresAt - config.refreshBeforeMs, t + (answer.expiresAt - t) / 2);
      record(e, answer.status, null);
      if (answer.status === "revoked") {
        logger.info({ kind: "revocation", event: "ocsp-revoked", ac: e.issuer.cert.label, url: e.url, serial: e.serial, revokedAt: iso(answer.revokedAt ?? answer.thisUpdate), reason: answer.reason }, "OCSP: certificate revoked");
      }
    } catch (err) {
      if (deps.signal.aborted) return;
      e.retryAt = now() + config.failureCacheMs;
      record(e, err instanceof OcspTimeout ? "timeout" : "error", (err as Error).message.slice(0, 500));
    }
  }

  /** Counts the outcome; logs a responder's first failure and its recovery (per-certificate failures at debug). */
  function record(e: Entry, outcome: OcspOutcome, reason: string | null): void {
    requests[outcome] += 1;
    const previous = responders.get(e.url);
    const failed = reason !== null;
    const wasFailing = previous?.lastError !== undefined;
    const fields = { kind: "revocation", ac: e.issuer.cert.label, url: e.url, serial: e.serial };
    if (failed && !wasFailing) logger.warn({ ...fields, event: "ocsp-failed", outcome, reason }, "OCSP responder failed; the CRL decides for its certificates meanwhile");
    else if (failed) logger.debug({ ...fields, event: "ocsp-failed", outcome, reason }, "OCSP exchange failed");
    else if (wasFailing) logger.info({ ...fields, event: "ocsp-recovered", outcome }, "OCSP responder answers again");
    else logger.debug({ ...fields, event: "ocsp-answer", outcome }, "OCSP answer");
    if (!previous && responders.size >= MAX_RESPONDERS) responders.delete(responders.keys().next().value!);
    responders.set(e.url, { url: e.url, ac: e.issuer.cert.label, lastOutcome: outcome, ...(reason !== null ? { lastError: reason } : {}), at: iso(now()) });
  }

  return {
    answer(cert, issuer, facts, t) {
      const e = entry(cert, issuer, facts);
      if (!e) return null;
      e.used = true;
      if (due(e, t)) void exchange(e);
      return usable(e, t);
    },
    prepare(cert, issuer, facts, t) {
      const e = entry(cert, issuer, facts);
      if (!e) return null;
      e.used = true;
      if (usable(e, t)) {
        if (due(e, t)) void exchange(e);
        return null;
      }
      if (e.pending) return e.pending;
      return due(e, t) ? exchange(e) : null;
    },
    async refresh(t) {
      const started: Promise<void>[] = [];
      for (const e of cache.values()) if (e.used && due(e, t)) started.push(exchange(e));
      await Promise.all(started);
    },
    nextDue() {
      let next = Infinity;
      for (const e of cache.values()) if (e.used && e.pending === null) next = Math.min(next, e.retryAt);
      return next;
    },
    state() {
      return { cacheSize: cache.size, requests: { ...requests }, responders: [...responders.values()] };
    },
    async close() {
      await Promise.allSettled([...inFlight]);
    },
  };
}
