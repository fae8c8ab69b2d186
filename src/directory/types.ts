/**
 * The participant directory's data model and store contract (docs/architecture.md §Directory). The OFB Directory's
 * `/participants` document (swagger_participants.yaml v1.1.0) is parsed into a {@link Snapshot}; a {@link
 * DirectoryStore} holds the current one for every replica.
 */

/**
 * An OFB regulatory role claim (`OrgDomainRoleClaims[]` of swagger_participants.yaml), compared by `role` and
 * `status` only.
 */
export interface RoleClaim {
  /** `DADOS`, `PAGTO`, `CONTA`, `CCORR`, … upper-cased and trimmed as published. */
  readonly role: string;
  /** `Active` or `Inactive` as published; anything but `Active` is not a usable role. */
  readonly status: string;
  /** `AuthorisationDomain`, trimmed (real data carries `"Open Banking Brasil "`); informative only. */
  readonly domain: string;
}

/** One organisation of the Directory, normalised. */
export interface Organisation {
  /** `OrganisationId`, lower-cased (a UUID, often version 5). */
  readonly id: string;
  /** `Active`, `Pending` or `Withdrawn` as published; an unknown value is kept and fails every check. */
  readonly status: string;
  readonly name: string;
  /**
   * `RegistrationNumber` with `.`, `/`, `-` and spaces removed and letters upper-cased: a 14-character CNPJ, or
   * the 8-character CNPJ root that most entries of the 2021 production `/participants` hold. Empty when absent.
   */
  readonly registrationNumber: string;
  readonly roles: readonly RoleClaim[];
}

/** What is known about a snapshot without reading its organisations. */
export interface SnapshotMeta {
  /** Opaque, unique per published snapshot. */
  readonly version: string;
  /** When the Directory last confirmed this content (a 200 or a 304), ms since the epoch. */
  readonly fetchedAt: number;
  /** Validators for conditional requests (RFC 9110 §13.1). */
  readonly etag: string | null;
  readonly lastModified: string | null;
  readonly organisations: number;
  /** Where it came from (URL), for operators. */
  readonly source: string;
}

export interface Snapshot {
  readonly meta: SnapshotMeta;
  readonly organisations: readonly Organisation[];
}

/** A held lock; `release` is safe to call more than once and never releases someone else's lock. */
export interface StoreLock {
  release(): Promise<void>;
}

/**
 * Where the current snapshot lives (Redis for replicas, memory for a single instance) and the small shared
 * caches the directory stage needs. Every implementation passes the same contract suite.
 */
export interface DirectoryStore {
  /**
   * Writes a complete snapshot and makes it current in one atomic step: a reader sees the old snapshot or
   * the new one, never a mix, even if this call dies half-way. Then tells every replica.
   */
  publish(snapshot: Snapshot): Promise<void>;
  /**
   * Records that the Directory confirmed the current snapshot again (HTTP 304) at `fetchedAt`, keeping
   * validators; a no-op when `version` is no longer current.
   */
  confirm(version: string, fetchedAt: number): Promise<void>;
  /** The current snapshot's metadata as last known to this replica (no I/O); null before any snapshot. */
  current(): SnapshotMeta | null;
  /** Re-reads the current snapshot's metadata from the shared store (start-up, and as a pub/sub safety net). */
  refreshCurrent(): Promise<SnapshotMeta | null>;
  /** The organisation in the current snapshot (id compared case-insensitively), or null. */
  organisation(id: string): Promise<Organisation | null>;
  /** Organisations whose registration number is this CNPJ or its 8-character root. */
  organisationsByCnpj(cnpj: string): Promise<readonly Organisation[]>;
  /** A small shared cache with expiry (keystore JWKS results), by key. */
  cacheGet(key: string): Promise<string | null>;
  cacheSet(key: string, value: string, ttlMs: number): Promise<void>;
  /** Takes a lock with expiry if it is free; null when another holder has it. */
  tryLock(name: string, ttlMs: number): Promise<StoreLock | null>;
  /** Called after a snapshot is published by any replica (including this one) or confirmed. */
  onChange(listener: (meta: SnapshotMeta) => void): () => void;
  close(): Promise<void>;
}
