import type { Dispatcher } from "undici";
import type { DirectoryConfig } from "../config/schema.js";
import type { Logger } from "../log/logger.js";
import { checkOrganisation, type ParticipantVerdict } from "./check.js";
import { createKeystore, KeystoreUnavailableError } from "./keystore.js";
import { createDirectorySync, type SyncResult } from "./sync.js";
import type { DirectoryStore } from "./types.js";

/** Whether the directory can answer checks now (readiness, docs/architecture.md §Operations). */
export type DirectoryState = { readonly ready: true; readonly version: string; readonly ageMs: number } | { readonly ready: false; readonly reason: string };

export interface DirectoryService {
  readonly store: DirectoryStore;
  state(): DirectoryState;
  /** Organisation status, role and (optionally) registered transport key, for one certificate. Never rejects. */
  verify(organisationId: string, softwareStatementId: string, thumbprint: string, role: string | null): Promise<ParticipantVerdict>;
  /** One sync now (CLI, tests); the periodic loop is started by {@link DirectoryService.start}. */
  syncOnce(): Promise<SyncResult>;
  start(): void;
  close(): Promise<void>;
}

/**
 * The directory stage's dependencies in one place: store, sync loop, keystore client and the staleness rule (decision
 * D5 of docs/architecture.md: the last good snapshot serves up to `maxStalenessMs`; beyond it, or before any
 * snapshot, checks answer DIRECTORY_UNAVAILABLE — never fail open).
 */
export function createDirectoryService(options: {
  readonly config: DirectoryConfig;
  readonly store: DirectoryStore;
  readonly logger: Logger;
  readonly now: () => number;
  /** The product's outbound dispatcher (net/dispatcher.ts), for the participants document and the keystore. */
  readonly dispatcher: Dispatcher;
  readonly onSync?: (result: SyncResult) => void;
}): DirectoryService {
  const { config, store, now } = options;
  const sync = createDirectorySync({
    store,
    participantsUrl: config.participantsUrl,
    fetchTimeoutMs: config.fetchTimeoutMs,
    maxDocumentBytes: config.maxDocumentBytes,
    lockTtlMs: config.lockTtlMs,
    refreshIntervalMs: config.refreshIntervalMs,
    now,
    logger: options.logger,
    dispatcher: options.dispatcher,
    ...(options.onSync ? { onResult: options.onSync } : {}),
  });
  const keystore = config.requireRegisteredCertificate
    ? createKeystore({
        baseUrl: config.keystoreUrl,
        cache: store,
        ttlMs: config.keystore.ttlMs,
        negativeTtlMs: config.keystore.negativeTtlMs,
        timeoutMs: config.keystore.timeoutMs,
        maxBytes: config.keystore.maxBytes,
        now,
        dispatcher: options.dispatcher,
      })
    : null;

  function state(): DirectoryState {
    const meta = store.current();
    if (!meta) return { ready: false, reason: "no directory snapshot has been loaded yet" };
    const ageMs = now() - meta.fetchedAt;
    if (ageMs > config.maxStalenessMs) {
      return { ready: false, reason: `the directory snapshot is ${Math.round(ageMs / 60_000)} min old (directory.maxStalenessMs allows ${Math.round(config.maxStalenessMs / 60_000)} min)` };
    }
    return { ready: true, version: meta.version, ageMs };
  }

  async function verify(organisationId: string, softwareStatementId: string, thumbprint: string, role: string | null): Promise<ParticipantVerdict> {
    const s = state();
    if (!s.ready) return { ok: false, code: "DIRECTORY_UNAVAILABLE", detail: s.reason };
    let verdict: ParticipantVerdict;
    try {
      verdict = checkOrganisation(organisationId, await store.organisation(organisationId), role);
    } catch (err) {
      return { ok: false, code: "DIRECTORY_UNAVAILABLE", detail: `the directory store cannot be read (${(err as Error).message.slice(0, 120)})` };
    }
    if (!verdict.ok || !keystore) return verdict;
    try {
      const key = await keystore.keyStatus(verdict.organisation.id, softwareStatementId, thumbprint);
      if (key === "inactive") return { ok: false, code: "DIRECTORY_KEY_INACTIVE", detail: `the certificate is in ${verdict.organisation.id}/${softwareStatementId}/inactive/transport.jwks, not the active set` };
      if (key === "unregistered") return { ok: false, code: "DIRECTORY_KEY_UNREGISTERED", detail: `the certificate is not a key of software statement ${softwareStatementId}'s transport.jwks` };
    } catch (err) {
      if (err instanceof KeystoreUnavailableError) return { ok: false, code: "DIRECTORY_KEYSTORE_UNAVAILABLE", detail: err.message };
      throw err;
    }
    return verdict;
  }

  return {
    store,
    state,
    verify,
    syncOnce: sync.syncOnce,
    start: sync.start,
    close: async () => {
      await sync.stop();
      await store.close();
    },
  };
}
