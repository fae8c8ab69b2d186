import type { RevocationService } from "./service.js";

/** A readiness condition with what the operator needs to see next to it (the admin listener's `/readyz`). */
export interface ReadinessCheck {
  /** Null when met, else why not. */
  readonly reason: string | null;
  readonly detail: Readonly<Record<string, unknown>>;
}

/**
 * Revocation's part of `/readyz`: every AC the edge knows, whether a CRL source covers it and the status of its
 * CRL. In hard-fail the edge is not ready while an AC seen in a client chain has no CRL source (`uncovered`:
 * its certificates are refused), or a covered AC has no usable CRL (none obtained, or stale). ACs known only
 * from the trust-anchor files whose distribution point is not known yet (`pending`, learned from the first
 * certificate they issue) do not hold readiness back: the first connection through one waits for its CRL, and
 * an edge that waited for them could never be ready before the traffic that teaches it. Soft-fail is always
 * ready here, and lists what it accepts unchecked.
 */
export function revocationReadiness(service: RevocationService, onStale: "soft-fail" | "hard-fail"): ReadinessCheck {
  const acs = service.state().acs;
  const uncovered = acs.filter((a) => a.coverage === "uncovered").map((a) => a.ac);
  const unusable = acs.filter((a) => a.coverage === "covered" && !a.loading && (a.status === "missing" || a.status === "stale")).map((a) => a.ac);
  const reasons: string[] = [];
  if (onStale === "hard-fail" && uncovered.length > 0) reasons.push(`no CRL source for ${uncovered.join(", ")} (hard-fail: their certificates are refused)`);
  if (onStale === "hard-fail" && unusable.length > 0) reasons.push(`no usable CRL for ${unusable.join(", ")} (hard-fail)`);
  return {
    reason: reasons.length > 0 ? reasons.join("; ") : null,
    detail: {
      onStale,
      ...(uncovered.length > 0 && { uncovered }),
      acs: acs.map((a) => ({
        ac: a.ac,
        sha256: a.sha256,
        coverage: a.coverage,
        status: a.loading ? "loading" : a.status,
        ...(a.unchecked > 0 && { unchecked: a.unchecked }),
      })),
    },
  };
}
