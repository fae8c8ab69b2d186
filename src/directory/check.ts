import type { EdgeErrorCode } from "../errors.js";
import type { Organisation } from "./types.js";

/** The directory's answer for one participant and one required role. */
export type ParticipantVerdict =
  | { readonly ok: true; readonly organisation: Organisation; readonly activeRoles: readonly string[] }
  | { readonly ok: false; readonly code: EdgeErrorCode; readonly detail: string };

const STATUS_CODES: Readonly<Record<string, EdgeErrorCode>> = {
  Pending: "DIRECTORY_ORG_PENDING",
  Withdrawn: "DIRECTORY_ORG_WITHDRAWN",
};

/**
 * The certificate's organisation exists and is `Active`; the role the API needs has an `Active` claim (roles
 * compared by `Role` and `Status` only: real `AuthorisationDomain` strings vary). Anything unknown fails closed
 * (docs/architecture.md §Directory).
 */
export function checkOrganisation(organisationId: string, organisation: Organisation | null, requiredRole: string | null): ParticipantVerdict {
  if (!organisation) return { ok: false, code: "DIRECTORY_ORG_UNKNOWN", detail: `organisation ${organisationId} is not in the participant directory` };
  if (organisation.status !== "Active") {
    const code = STATUS_CODES[organisation.status] ?? "DIRECTORY_ORG_STATUS_UNKNOWN";
    return { ok: false, code, detail: `organisation ${organisation.id} has status '${organisation.status.slice(0, 40)}' in the participant directory` };
  }
  const activeRoles = [...new Set(organisation.roles.filter((r) => r.status === "Active").map((r) => r.role))];
  if (requiredRole !== null && !activeRoles.includes(requiredRole)) {
    const listed = organisation.roles.some((r) => r.role === requiredRole);
    return listed
      ? { ok: false, code: "DIRECTORY_ROLE_INACTIVE", detail: `organisation ${organisation.id}'s ${requiredRole} role claim is not Active` }
      : { ok: false, code: "DIRECTORY_ROLE_MISSING", detail: `organisation ${organisation.id} has no ${requiredRole} role claim, which this API requires` };
  }
  return { ok: true, organisation, activeRoles };
}

/**
 * The role a request needs (our reading of OFB DCR v2.1.0 §7.2): explicit per route, or from the API family in
 * `/open-banking/<family>/…`; other paths (token, PAR, registration) need none.
 */
export function requiredRole(route: string | null, path: string, roleByFamily: Readonly<Record<string, string>>, defaultRole: string): string | null {
  if (route !== "auto") return route;
  const family = apiFamily(path);
  if (family === null) return null;
  return Object.hasOwn(roleByFamily, family) ? roleByFamily[family]! : defaultRole;
}

/** The OFB API family of a path: `<family>` in `/open-banking/<family>/…`; null for other paths. */
export function apiFamily(path: string): string | null {
  const prefix = "/open-banking/";
  if (!path.startsWith(prefix)) return null;
  const end = path.indexOf("/", prefix.length);
  return path.slice(prefix.length, end < 0 ? undefined : end);
}
