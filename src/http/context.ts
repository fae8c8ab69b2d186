import type { HttpBindings } from "@hono/node-server";
import type { VerifiedClient, PeerState } from "../connection/peer-state.js";
import type { EdgeError } from "../errors.js";
import type { Route } from "./route.js";

/** Typed per-request variables, one per pipeline stage (STYLE habit 1). */
export interface EdgeVariables {
  route: Route | undefined;
  interactionId: string;
  peer: PeerState;
  /** The verified client certificate, when the connection has one (null otherwise). */
  client: VerifiedClient | null;
  /** The Directory's view of the client, when the route checked it. */
  participant: { readonly organisationId: string; readonly activeRoles: readonly string[]; /** `activeRoles` joined with "," (the `x-ofb-roles` value). */ readonly roles: string } | undefined;
  /** Set by the error handler so the access log can record the decision. */
  rejection: EdgeError | undefined;
  /** Status actually sent when the response was streamed by the proxy. */
  upstreamStatus: number | undefined;
}

export type EdgeEnv = { Bindings: HttpBindings; Variables: EdgeVariables };
