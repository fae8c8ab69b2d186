import type { Dispatcher } from "undici";
import type { StoreLock } from "../directory/types.js";
import type { Logger } from "../log/logger.js";
import { isHeld, iso, loadCrl, provenance, type Authority, type LoadedCrl } from "./authority.js";
import type { RevocationConfig } from "./config.js";
import { crlDers, crlIssuerDer } from "./crl.js";
import { nameKey } from "../pki/name-match.js";
import { downloadCrl } from "./download.js";
import type { RevocationStore, StoredCrl } from "./store.js";

export interface RefresherOptions {
  readonly config: RevocationConfig;
  readonly store: RevocationStore;
  readonly logger: Logger;
  readonly now: () => number;
  readonly dispatcher: Dispatcher;
  /** Aborts downloads in flight (the service closing). */
  readonly signal?: AbortSignal;
}

/** While another replica holds an AC's lock, look again this soon (its pub/sub message usually comes first). */
const LOCKED_RETRY_MS = 2_000;
/** With no CRL held yet, how often to look for the one another replica is downloading (between pub/sub messages). */
const LOCKED_POLL_MS = 250;
/** Stands in for the shared lock while the store cannot be reached. */
const UNSHARED: StoreLock = { release: async () => undefined };
/** Lock margin beyond the downloads themselves, for parsing and verifying a large CRL and storing it. */
const LOCK_MARGIN_MS = 60_000;

/**
 * Keeps each AC's CRL current, refreshed from its own nextUpdate (RFC 5280 §5.1.2.5: the date by which the next
 * CRL will be issued). Per AC: one attempt at a time in this process (single-flight) and one download at a time
 * across replicas (the store's lock); a CRL another replica stored is adopted instead of downloaded again, and a
 * replica with no CRL yet waits for the one being downloaded. Distribution points are tried in order and the
 * first CRL that passes every check wins; when none does, the CRL held stays in service and the attempt is
 * retried with backoff. While the store cannot be reached, each replica downloads and keeps CRLs on its own.
 */
export function createRefresher(o: RefresherOptions) {
  const { config, store, logger, now } = o;

  /** One attempt now; concurrent callers share the one in flight. Never rejects. */
  function refresh(a: Authority): Promise<void> {
    a.pending ??= attempt(a)
      .catch((err: unknown) => failed(a, (err as Error).message))
      .finally(() => {
        a.pending = null;
        a.attempted = true;
      });
    return a.pending;
  }

  function isDue(a: Authority): boolean {
    if (!a.crl) return true;
    const t = now();
    return t >= a.crl.parsed.nextUpdate - config.refreshBeforeMs && t - a.crl.source.fetchedAt >= config.minRefreshIntervalMs;
  }

  async function attempt(a: Authority): Promise<void> {
    for (;;) {
      await adopt(a);
      if (!isDue(a)) return scheduled(a);
      if (a.urls.length === 0) {
        // Nothing to try until a certificate issued by this AC (or `revocation.urls`) names a distribution point.
        if (!a.crl) a.lastError = "no CRL distribution point known yet";
        a.nextAttemptAt = Infinity;
        return;
      }
      const lock = await store.tryLock(a.sha256, config.fetchTimeoutMs * a.urls.length + LOCK_MARGIN_MS).catch((err: unknown) => {
        // The shared store down must not let CRLs go stale: download without the lock, as a single instance would.
        storeFailed(a, "lock", err);
        return UNSHARED;
      });
      if (!lock) {
        if (a.crl) return void (a.nextAttemptAt = now() + Math.min(LOCKED_RETRY_MS, config.minRefreshIntervalMs));
        // No CRL at all yet: another replica is downloading it. This attempt lasts until that one stores it (or
        // its lock lapses), so a first connection waiting here is decided by that CRL, not by its absence.
        await changed(a.sha256);
        if (o.signal?.aborted) return;
        continue;
      }
      try {
        // Another replica may have stored a CRL while this one waited for the lock.
        await adopt(a);
        if (!isDue(a)) return scheduled(a);
        const { stored, loaded } = await download(a);
        install(a, loaded);
        scheduled(a);
        await store.put(a.sha256, stored).catch((err: unknown) => storeFailed(a, "put", err));
        return;
      } finally {
        await lock.release().catch(() => undefined);
      }
    }
  }

  /** Resolves when the store says `ac`'s CRL changed, after LOCKED_POLL_MS, or when the service closes. */
  function changed(ac: string): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        off();
        o.signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, LOCKED_POLL_MS);
      const off = store.onChange((changedAc) => (changedAc === null || changedAc === ac) && done());
      o.signal?.addEventListener("abort", done);
    });
  }

  /**
   * Loads the CRL the store holds for `a` when it is newer than this replica's (pub/sub, start-up, reconnect).
   * Never rejects: a store that cannot be read, or a CRL in it that fails a check, leaves the CRL held.
   */
  async function adopt(a: Authority): Promise<void> {
    const stored = await store.get(a.sha256).catch((err: unknown) => void storeFailed(a, "get", err));
    if (!stored) return;
    if (isHeld(a, stored.der)) {
      if (a.crl && stored.fetchedAt > a.crl.source.fetchedAt) a.crl = { parsed: a.crl.parsed, source: provenance(stored) };
      return;
    }
    try {
      install(a, await loadCrl(a, stored, now()));
    } catch (err) {
      logger.warn({ kind: "revocation", event: "stored-crl-refused", ac: a.cert.label, sha256: a.sha256, url: stored.url, reason: (err as Error).message }, "CRL in the shared store refused");
    }
  }

  /** The first distribution point whose CRL passes every check, or one that confirms the CRL held (304). */
  async function download(a: Authority): Promise<{ stored: StoredCrl; loaded: LoadedCrl }> {
    const reasons: string[] = [];
    for (const url of a.urls) {
      try {
        const held = a.crl;
        const result = await downloadCrl(url, held?.source.url === url ? held.source : null, { timeoutMs: config.fetchTimeoutMs, maxBytes: config.maxCrlBytes, dispatcher: o.dispatcher, signal: o.signal });
        if (result.status === "not-modified") {
          if (!held) throw new Error("HTTP 304 to an unconditional request");
          return confirmed(held, { ...held.source, fetchedAt: now() });
        }
        const stored: StoredCrl = { der: crlFor(a, result.value.body), url, fetchedAt: now(), etag: result.value.etag, lastModified: result.value.lastModified };
        if (held && isHeld(a, stored.der)) return confirmed(held, provenance(stored));
        return { stored, loaded: await loadCrl(a, stored, now()) };
      } catch (err) {
        reasons.push(`${url}: ${(err as Error).message}`);
      }
    }
    throw new Error(reasons.join("; "));
  }

  function install(a: Authority, loaded: LoadedCrl): void {
    const previous = a.crl;
    // Whatever its source (download, another replica, a local file), an older CRL never replaces a newer one.
    if (previous && loaded.parsed.thisUpdate < previous.parsed.thisUpdate) return;
    a.crl = loaded;
    a.lastError = null;
    a.warnedMissing = false;
    const { parsed, source } = loaded;
    if (previous?.parsed === parsed) return;
    logger.info(
      { kind: "revocation", event: "crl-loaded", ac: a.cert.label, sha256: a.sha256, url: source.url, thisUpdate: iso(parsed.thisUpdate), nextUpdate: iso(parsed.nextUpdate), serials: parsed.revoked.size, bytes: parsed.der.length },
      "CRL loaded",
    );
  }

  /** A CRL from a local file, already checked for `a`: in service from now on, downloads scheduled from its nextUpdate. */
  function installLocal(a: Authority, loaded: LoadedCrl): void {
    install(a, loaded);
    if (a.crl === loaded) scheduled(a);
  }

  function scheduled(a: Authority): void {
    a.failures = 0;
    a.nextAttemptAt = a.crl ? Math.max(a.crl.parsed.nextUpdate - config.refreshBeforeMs, a.crl.source.fetchedAt + config.minRefreshIntervalMs) : now() + config.minRefreshIntervalMs;
  }

  function storeFailed(a: Authority, operation: string, err: unknown): void {
    logger.warn({ kind: "revocation", event: "store-failed", operation, ac: a.cert.label, sha256: a.sha256, reason: (err as Error).message }, "CRL store unavailable; this replica works on its own meanwhile");
  }

  /** Backoff 1 s, 2 s, 4 s, … up to minRefreshIntervalMs: a CRL missing at start-up is retried quickly. */
  function failed(a: Authority, reason: string): void {
    if (o.signal?.aborted) return;
    a.failures += 1;
    a.lastError = reason.slice(0, 1000);
    a.nextAttemptAt = now() + Math.min(config.minRefreshIntervalMs, 1000 * 2 ** Math.min(a.failures - 1, 20));
    const held = a.crl ? { thisUpdate: iso(a.crl.parsed.thisUpdate), nextUpdate: iso(a.crl.parsed.nextUpdate) } : null;
    logger.warn({ kind: "revocation", event: "crl-refresh-failed", ac: a.cert.label, sha256: a.sha256, reason: a.lastError, held, failures: a.failures }, "CRL refresh failed; the CRL held (if any) stays in service");
  }

  return { refresh, adopt, installLocal };
}

/**
 * The CRL of `a` in a downloaded body: the body itself when DER, else among its PEM CRLs the one whose issuer
 * is the AC (RFC 5280 §7.1 comparison), as some repositories publish several ACs' CRLs in one file. With one
 * CRL and no match, that CRL is returned for the checks to say what is wrong with it.
 */
function crlFor(a: Authority, body: Uint8Array): Uint8Array {
  const ders = crlDers(body);
  if (ders.length === 1) return ders[0]!;
  const match = ders.find((der) => {
    try {
      return nameKey(crlIssuerDer(der)) === a.cert.subjectKey;
    } catch {
      return false;
    }
  });
  if (!match) throw new Error(`none of the ${ders.length} CRLs in the body names '${a.cert.label}' as its issuer`);
  return match;
}

/** The CRL held, confirmed unchanged by a distribution point: stored again with its new provenance. */
function confirmed(held: LoadedCrl, source: LoadedCrl["source"]): { stored: StoredCrl; loaded: LoadedCrl } {
  return { stored: { ...source, der: held.parsed.der }, loaded: { parsed: held.parsed, source } };
}

