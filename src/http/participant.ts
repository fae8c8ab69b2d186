import type { MiddlewareHandler } from "hono";
import { requiredRole, type ParticipantVerdict } from "../directory/check.js";
import type { DirectoryService } from "../directory/service.js";
import { EdgeError } from "../errors.js";
import type { EdgeEnv } from "./context.js";

export interface ParticipantCheckOptions {
  readonly directory: DirectoryService | null;
  readonly roleByFamily: Readonly<Record<string, string>>;
  readonly defaultRole: string;
  readonly now: () => number;
  /** How long a connection may reuse a verdict for the same snapshot and role (keystore changes show up after this). */
  readonly reuseMs: number;
}

interface Remembered {
  readonly verdict: ParticipantVerdict;
  readonly at: number;
}

/**
 * Stage: the participant in the OFB Directory (DESIGN §4). On routes with `participant: check` and a verified
 * client certificate, the organisation must be Active with the role the API needs (and, when configured, the
 * certificate an active transport key). Verdicts are remembered per connection, snapshot version and role, so
 * a keep-alive connection asks the directory once, not once per request; a new snapshot asks again.
 */
export function participantCheck(options: ParticipantCheckOptions): MiddlewareHandler<EdgeEnv> {
  const { directory } = options;
  const byConnection = new WeakMap<object, Map<string, Remembered>>();

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
    const version = directory.store.current()?.version ?? "-";
    const key = `${version}|${role ?? ""}`;
    const socket = c.env.incoming.socket;
    let remembered = byConnection.get(socket);
    const now = options.now();
    let entry = remembered?.get(key);
    if (!entry || now - entry.at > options.reuseMs) {
      const { organisationId, softwareStatementId } = client.identity;
      const verdict = await directory.verify(organisationId, softwareStatementId, client.thumbprint, role);
      entry = { verdict, at: now };
      // An unavailable directory is a state of the edge, not a fact about this participant: not remembered.
      if (verdict.ok || (verdict.code !== "DIRECTORY_UNAVAILABLE" && verdict.code !== "DIRECTORY_KEYSTORE_UNAVAILABLE")) {
        if (!remembered) byConnection.set(socket, (remembered = new Map()));
        remembered.set(key, entry);
      }
    }
    const { verdict } = entry;
    if (!verdict.ok) throw new EdgeError(verdict.code, "directory", verdict.detail);
    c.set("participant", { organisationId: verdict.organisation.id, activeRoles: verdict.activeRoles });
    await next();
  };
}
