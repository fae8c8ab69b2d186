import type { MiddlewareHandler } from "hono";
import { requiredRole, type ParticipantVerdict } from "../directory/check.js";
import type { DirectoryService } from "../directory/service.js";
import { EdgeError } from "../errors.js";
import type { EdgeEnv, EdgeVariables } from "./context.js";

export interface ParticipantCheckOptions {
  readonly directory: DirectoryService | null;
  readonly roleByFamily: Readonly<Record<string, string>>;
  readonly defaultRole: string;
  readonly now: () => number;
  /** How long a connection may reuse a verdict for the same snapshot and role (keystore changes show up after this). */
  readonly reuseMs: number;
}

interface Remembered {
  readonly version: string;
  readonly role: string | null;
  readonly at: number;
  readonly verdict: ParticipantVerdict;
  /** The context value for an accepted verdict, built once. */
  readonly participant: EdgeVariables["participant"];
}

/**
 * Stage: the participant in the OFB Directory (docs/architecture.md §Directory). On routes with `participant: check`
 * and a verified client certificate, the organisation must be Active with the role the API needs (and, when
 * configured, the certificate an active transport key). The last verdict is remembered per verified certificate
 * (shared by all its connections) with its snapshot version and role, so a client asks the directory once, not once
 * per request; a new snapshot, another role or `reuseMs` later asks again. Whether the snapshot may still be used at
 * all is asked on every request (a comparison of two numbers).
 */
export function participantCheck(options: ParticipantCheckOptions): MiddlewareHandler<EdgeEnv> {
  const { directory } = options;
  // Keyed by the verified client (one object per distinct chain, shared by its connections), not by the socket:
  // a trusted terminator multiplexes many clients over one connection.
  const byClient = new WeakMap<object, Remembered>();

  return async function participantCheck(c, next) {
    const route = c.get("route")!;
    const client = c.get("client");
    if (!directory || route.participant !== "check" || !client) {
      await next();
      return;
    }
    const url = c.env.incoming.url ?? "/";
    const q = url.indexOf("?");
    const role = requiredRole(route.config.role, q < 0 ? url : url.slice(0, q), options.roleByFamily, options.defaultRole);
    // On every request: a remembered verdict is only as good as the snapshot it came from, so once the
    // snapshot is past directory.maxStalenessMs (or gone) the request fails closed, whatever the connection knows.
    const state = directory.state();
    if (!state.ready) throw new EdgeError("DIRECTORY_UNAVAILABLE", "directory", state.reason);
    const { version } = state;
    const now = options.now();
    let entry = byClient.get(client);
    if (!entry || entry.version !== version || entry.role !== role || now - entry.at > options.reuseMs) {
      const { organisationId, softwareStatementId } = client.identity;
      const verdict = await directory.verify(organisationId, softwareStatementId, client.thumbprint, role);
      const participant = verdict.ok ? { organisationId: verdict.organisation.id, activeRoles: verdict.activeRoles, roles: verdict.activeRoles.join(",") } : undefined;
      entry = { version, role, at: now, verdict, participant };
      // An unavailable directory is a state of the edge, not a fact about this participant: not remembered.
      if (verdict.ok || (verdict.code !== "DIRECTORY_UNAVAILABLE" && verdict.code !== "DIRECTORY_KEYSTORE_UNAVAILABLE")) byClient.set(client, entry);
    }
    const { verdict } = entry;
    if (!verdict.ok) throw new EdgeError(verdict.code, "directory", verdict.detail);
    c.set("participant", entry.participant);
    await next();
  };
}
