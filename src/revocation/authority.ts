import type { KeyObject } from "node:crypto";
import type { CertInfo } from "../pki/certificate.js";
import { CrlError, parseCrl, type ParsedCrl } from "./crl.js";
import { publicKeyOf, verifyCrl } from "./signature.js";
import type { StoredCrl } from "./store.js";

/** How far ahead of the validation clock a CRL's or OCSP response's thisUpdate may be (issuer clock skew) before it is refused. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;
/** Distribution points kept per AC (configured first, then learned from certificates). */
const MAX_URLS = 16;

/** A CRL that passed every check, with where it came from. */
export interface LoadedCrl {
  readonly parsed: ParsedCrl;
  readonly source: Omit<StoredCrl, "der">;
}

/** The first time an AC's CRL is sought: every connection that needs it meanwhile waits on this one, within a bound. */
export interface FirstFetch {
  /** Settles when the attempt ends or the wait bound passes, whichever comes first; never rejects. */
  readonly wait: Promise<void>;
  /** True until the attempt ended or the bound passed: while open, a missing CRL is not yet a verdict. */
  open: boolean;
}

/**
 * A first fetch over `attempt` (which never rejects), open until it ends or `waitMs` passes: connections that
 * need the CRL meanwhile share this one wait instead of deciding on a CRL not obtained yet.
 */
export function openFirstFetch(attempt: Promise<unknown>, waitMs: number): FirstFetch {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, waitMs);
    timer.unref();
  });
  const first: FirstFetch = {
    wait: Promise.race([attempt, bound]).then(() => {
      clearTimeout(timer);
      first.open = false;
    }),
    open: true,
  };
  return first;
}

/** What this replica knows about one AC (or root): its certificate, where its CRL is, and the CRL it holds. */
export interface Authority {
  /** SHA-256 of the AC certificate, lowercase hex: the key of everything about it. */
  readonly sha256: string;
  readonly cert: CertInfo;
  readonly urls: string[];
  crl: LoadedCrl | null;
  /** Injected clock: no attempt before this (backoff, or nothing due until the CRL's refresh time). */
  nextAttemptAt: number;
  failures: number;
  lastError: string | null;
  pending: Promise<void> | null;
  /** The first attempt to obtain its CRL with the sources known; null when none was waited for yet. */
  first: FirstFetch | null;
  /** An attempt ended since its sources were last extended: a missing CRL is then a verdict, not a wait. */
  attempted: boolean;
  /** The issuer of a certificate in a client chain (not only known from the trust-anchor files). */
  seen: boolean;
  /** A local CRL file that named this AC as issuer and verified with its key. */
  file: string | null;
  /** Certificates it issued accepted without a revocation check (soft-fail: no CRL source, or no CRL obtained). */
  unchecked: number;
  /** Log once: a missing CRL served in soft-fail; no CRL source; the nextUpdate of a CRL logged as stale. */
  warnedMissing: boolean;
  warnedUncovered: boolean;
  warnedStale: number | null;
  key: KeyObject | null;
}

export function newAuthority(cert: CertInfo, urls: readonly string[]): Authority {
  const a: Authority = {
    sha256: cert.sha256,
    cert,
    urls: [],
    crl: null,
    nextAttemptAt: 0,
    failures: 0,
    lastError: null,
    pending: null,
    first: null,
    attempted: false,
    seen: false,
    file: null,
    unchecked: 0,
    warnedMissing: false,
    warnedUncovered: false,
    warnedStale: null,
    key: null,
  };
  learnUrls(a, urls);
  return a;
}

/**
 * Whether a CRL source is known for the AC: `covered` (a distribution point, a `revocation.urls` entry or a
 * local CRL file), `uncovered` (seen issuing a certificate of a client chain, and none of those), or `pending`
 * (known only from the trust-anchor files: its distribution point is learned from the first certificate it
 * issued that a client presents).
 */
export type Coverage = "covered" | "uncovered" | "pending";

export function coverage(a: Authority): Coverage {
  if (a.urls.length > 0 || a.file !== null || a.crl !== null) return "covered";
  return a.seen ? "uncovered" : "pending";
}

/** Adds distribution points not yet known; true when any was new. */
export function learnUrls(a: Authority, urls: readonly string[]): boolean {
  let added = false;
  for (const url of urls) {
    if (a.urls.length >= MAX_URLS || a.urls.includes(url)) continue;
    a.urls.push(url);
    added = true;
  }
  return added;
}

/**
 * Parses and checks a CRL for `a` (RFC 5280 §6.3.3): issuer name, signature by the AC's key, and dates (a
 * thisUpdate ahead of the clock is refused; one behind the CRL already held too, so a lagging mirror or a
 * replayed old CRL never replaces a newer one). Throws {@link CrlError}.
 */
export async function loadCrl(a: Authority, stored: StoredCrl, now: number): Promise<LoadedCrl> {
  return acceptCrl(a, await parseCrl(stored.der), provenance(stored), now);
}

/** {@link loadCrl} for a CRL already parsed (a local file's). */
export async function acceptCrl(a: Authority, parsed: ParsedCrl, source: LoadedCrl["source"], now: number): Promise<LoadedCrl> {
  a.key ??= publicKeyOf(a.cert);
  await verifyCrl(parsed, a.cert, a.key);
  if (parsed.thisUpdate > now + MAX_CLOCK_SKEW_MS) throw new CrlError(`thisUpdate ${iso(parsed.thisUpdate)} is in the future`);
  if (a.crl && parsed.thisUpdate < a.crl.parsed.thisUpdate) throw new CrlError(`older (thisUpdate ${iso(parsed.thisUpdate)}) than the CRL held (${iso(a.crl.parsed.thisUpdate)})`);
  return { parsed, source };
}

/** Where a stored CRL came from, without its bytes. */
export function provenance(s: StoredCrl): LoadedCrl["source"] {
  return { url: s.url, fetchedAt: s.fetchedAt, etag: s.etag, lastModified: s.lastModified };
}

/** The same bytes as the CRL held: only its provenance (a re-confirmation) needs updating. */
export function isHeld(a: Authority, der: Uint8Array): boolean {
  const held = a.crl?.parsed.der;
  return held !== undefined && held.length === der.length && Buffer.compare(held, der) === 0;
}

export type Freshness = "fresh" | "stale-grace" | "stale" | "missing";

/** At `now`: fresh until nextUpdate (RFC 5280 §5.1.2.5); then within `graceMs` only in soft-fail (`revocation.onStale`). */
export function freshness(a: Authority, now: number, o: { readonly onStale: "soft-fail" | "hard-fail"; readonly graceMs: number }): Freshness {
  if (!a.crl) return "missing";
  const nextUpdate = a.crl.parsed.nextUpdate;
  if (now <= nextUpdate) return "fresh";
  return o.onStale === "soft-fail" && now <= nextUpdate + o.graceMs ? "stale-grace" : "stale";
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
