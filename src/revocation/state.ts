import { coverage, freshness, iso, type Authority, type Coverage, type Freshness } from "./authority.js";

/** One AC's CRL as this replica holds it (readiness, metrics, CLI). */
export interface AuthorityState {
  /** The AC's CN (operator-facing only). */
  readonly ac: string;
  readonly sha256: string;
  readonly status: Freshness;
  /** Whether a CRL source is known for it (see {@link Coverage}). */
  readonly coverage: Coverage;
  /** Its CRL is being obtained for the first time (connections that need it wait). */
  readonly loading: boolean;
  readonly thisUpdate?: string;
  readonly nextUpdate?: string;
  /** now − thisUpdate. */
  readonly ageMs?: number;
  readonly serials?: number;
  readonly source?: string;
  readonly urls: readonly string[];
  /** The local CRL file that provides its CRL, when one does. */
  readonly file?: string;
  /** Certificates it issued accepted without a revocation check since start (soft-fail only). */
  readonly unchecked: number;
  readonly lastError?: string;
}

/** The state of `a` at `t`. */
export function authorityState(a: Authority, t: number, o: { readonly onStale: "soft-fail" | "hard-fail"; readonly graceMs: number }): AuthorityState {
  const base = {
    ac: a.cert.label,
    sha256: a.sha256,
    status: freshness(a, t, o),
    coverage: coverage(a),
    loading: a.first?.open === true,
    urls: [...a.urls],
    unchecked: a.unchecked,
    ...(a.file !== null ? { file: a.file } : {}),
    ...(a.lastError ? { lastError: a.lastError } : {}),
  };
  if (!a.crl) return base;
  const { parsed, source } = a.crl;
  return { ...base, thisUpdate: iso(parsed.thisUpdate), nextUpdate: iso(parsed.nextUpdate), ageMs: t - parsed.thisUpdate, serials: parsed.revoked.size, source: source.url };
}
