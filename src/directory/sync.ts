import { randomUUID } from "node:crypto";
import type { Dispatcher } from "undici";
import type { Logger } from "../log/logger.js";
import { DirectoryDocumentError, parseJsonDocument, parseParticipants } from "./document.js";
import { describeFetchError } from "../net/errors.js";
import { exchange, headerValue, type OutboundResponse } from "../net/exchange.js";
import type { DirectoryStore, SnapshotMeta } from "./types.js";

/** The outcome of one sync attempt; `failed` keeps the previous snapshot in service. */
export type SyncResult =
  | { readonly status: "published"; readonly meta: SnapshotMeta; readonly bytes: number; readonly ms: number; readonly activeRoles: Readonly<Record<string, number>> }
  | { readonly status: "not-modified"; readonly meta: SnapshotMeta; readonly ms: number }
  | { readonly status: "skipped"; readonly reason: "locked" }
  | { readonly status: "failed"; readonly reason: string; readonly ms: number };

export interface DirectorySyncOptions {
  readonly store: DirectoryStore;
  readonly participantsUrl: string;
  readonly fetchTimeoutMs: number;
  readonly maxDocumentBytes: number;
  readonly lockTtlMs: number;
  readonly refreshIntervalMs: number;
  readonly now: () => number;
  readonly logger: Logger;
  /** The product's outbound dispatcher (net/dispatcher.ts). */
  readonly dispatcher: Dispatcher;
  /** Called after each attempt (metrics, CLI progress). */
  readonly onResult?: (result: SyncResult) => void;
}

const LOCK = "directory-sync";

/**
 * Keeps the store's snapshot of the Directory's `/participants` fresh (docs/architecture.md §Directory).
 * - one attempt at a time per process (single-flight) and one replica at a time (store lock with expiry);
 * - conditional requests with the current snapshot's validators (RFC 9110 §13.1.1–2), bounded size and time;
 * - a document that fails to download or validate leaves the previous snapshot in service: the check stage
 *   decides from its age whether it may still be used (never fail open).
 */
export function createDirectorySync(options: DirectorySyncOptions) {
  const { store, logger } = options;
  let pending: Promise<SyncResult> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  // Aborts a download in progress when the edge shuts down: shutdown does not wait for the Directory.
  const stopping = new AbortController();

  async function attempt(): Promise<SyncResult> {
    const started = options.now();
    const lock = await store.tryLock(LOCK, options.lockTtlMs);
    if (!lock) return { status: "skipped", reason: "locked" };
    try {
      // Another replica may have published while this one waited for its turn.
      const current = await store.refreshCurrent();
      const headers: Record<string, string> = { accept: "application/json" };
      if (current?.etag) headers["if-none-match"] = current.etag;
      if (current?.lastModified) headers["if-modified-since"] = current.lastModified;
      const res = await exchange(options.participantsUrl, {
        dispatcher: options.dispatcher,
        headers,
        timeoutMs: options.fetchTimeoutMs,
        maxBytes: options.maxDocumentBytes,
        limitName: "directory.maxDocumentBytes",
        // One request every few minutes: a fresh connection each time, never one the Directory closed while idle.
        reset: true,
        signal: stopping.signal,
        readBody: (status, h) => status === 200 && isJson(headerValue(h["content-type"])),
        where: "",
      });
      if (res.status === 304 && current) {
        const fetchedAt = options.now();
        await store.confirm(current.version, fetchedAt);
        return { status: "not-modified", meta: { ...current, fetchedAt }, ms: options.now() - started };
      }
      const text = documentText(res, options.participantsUrl);
      const organisations = parseParticipants(parseJsonDocument(text, options.participantsUrl));
      const meta: SnapshotMeta = {
        version: `${started.toString(36)}-${randomUUID().slice(0, 8)}`,
        fetchedAt: options.now(),
        etag: headerValue(res.headers.etag),
        lastModified: headerValue(res.headers["last-modified"]),
        organisations: organisations.length,
        source: options.participantsUrl,
      };
      await store.publish({ meta, organisations });
      const activeRoles: Record<string, number> = {};
      for (const org of organisations) for (const r of org.roles) if (r.status === "Active") activeRoles[r.role] = (activeRoles[r.role] ?? 0) + 1;
      return { status: "published", meta, bytes: Buffer.byteLength(text), ms: options.now() - started, activeRoles };
    } catch (err) {
      return { status: "failed", reason: describe(err), ms: options.now() - started };
    } finally {
      await lock.release().catch(() => undefined);
    }
  }

  /** One sync now; concurrent callers share the attempt in flight. Never rejects. */
  function syncOnce(): Promise<SyncResult> {
    pending ??= attempt()
      .catch((err: unknown): SyncResult => ({ status: "failed", reason: describe(err), ms: 0 }))
      .then((result) => {
        pending = undefined;
        // An attempt cut short by shutdown is not a Directory failure worth a warning.
        if (!(stopped && result.status === "failed")) log(result);
        options.onResult?.(result);
        return result;
      });
    return pending;
  }

  function log(result: SyncResult): void {
    if (result.status === "published") {
      logger.info({ kind: "directory", event: "published", version: result.meta.version, organisations: result.meta.organisations, bytes: result.bytes, ms: result.ms }, "directory snapshot published");
    } else if (result.status === "not-modified") {
      logger.debug({ kind: "directory", event: "not-modified", version: result.meta.version, ms: result.ms }, "directory unchanged");
    } else if (result.status === "failed") {
      const age = store.current() ? options.now() - store.current()!.fetchedAt : null;
      logger.warn({ kind: "directory", event: "sync-failed", reason: result.reason, snapshotAgeMs: age, ms: result.ms }, "directory sync failed; the previous snapshot stays in service");
    }
  }

  return {
    syncOnce,
    /**
     * Periodic refresh (with ±10 % jitter so replicas spread out); the first run is immediate. After a failure
     * the next attempt comes sooner (2 s, 4 s, … up to the refresh interval), so an edge that started before
     * its Directory was reachable does not wait a whole interval to become ready.
     */
    start(): void {
      if (timer) return;
      let failures = 0;
      const schedule = (result: SyncResult) => {
        if (stopped) return;
        failures = result.status === "failed" ? failures + 1 : 0;
        const base = failures > 0 ? Math.min(options.refreshIntervalMs, 1000 * 2 ** failures) : options.refreshIntervalMs;
        timer = setTimeout(() => void syncOnce().then(schedule), base * (0.9 + Math.random() * 0.2));
        timer.unref();
      };
      void syncOnce().then(schedule);
    },
    /** Stops the loop and aborts a download in progress; resolves once the attempt in flight (if any) has ended. */
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      stopping.abort(new Error("the edge is shutting down"));
      await pending;
    },
  };
}

function isJson(type: string | null): boolean {
  return /^application\/([a-z.+-]*\+)?json\s*(;|$)/i.test(type ?? "");
}

/** The participants document's text: a 200 with a JSON media type, read within directory.maxDocumentBytes. */
function documentText(res: OutboundResponse, url: string): string {
  if (res.status !== 200) throw new Error(`HTTP ${res.status} from ${url}`);
  const type = headerValue(res.headers["content-type"]) ?? "";
  if (!isJson(type)) throw new Error(`unexpected content type '${type.slice(0, 60)}' from ${url} (expected application/json)`);
  return res.body.toString("utf8");
}

function describe(err: unknown): string {
  if (err instanceof DirectoryDocumentError) return err.message;
  return describeFetchError(err);
}
