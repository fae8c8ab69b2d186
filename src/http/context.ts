import type { HttpBindings } from "@hono/node-server";
import type { VerifiedToken } from "../binding/types.js";
import type { VerifiedClient, PeerState } from "../connection/peer-state.js";
import type { DenyEntry } from "../deny/deny-list.js";
import type { EdgeError, EdgeErrorCode } from "../errors.js";
import type { VerifiedMessage } from "../messages/signing-verify.js";
import type { ExchangeMeter, ResponseCapture } from "../proxy/forward.js";
import type { Route } from "./route.js";

/** Typed per-request variables, one per pipeline stage. */
export interface EdgeVariables {
  route: Route | undefined;
  interactionId: string;
  peer: PeerState;
  /** The verified client certificate, when the connection has one (null otherwise). */
  client: VerifiedClient | null;
  /** The Directory's view of the client, when the route checked it. */
  participant: { readonly organisationId: string; readonly activeRoles: readonly string[]; /** `activeRoles` joined with "," (the `x-ofb-roles` value). */ readonly roles: string } | undefined;
  /** The verified access token's claims, on routes that check tokens (header profiles read them). */
  token: VerifiedToken | undefined;
  /** Report mode: the binding rule the token failed, forwarded anyway. */
  bindingReport: EdgeErrorCode | undefined;
  /** The request's signed message, verified (routes with messageSigning verify or verify-and-sign; header profiles read it). */
  message: VerifiedMessage | undefined;
  /** A request body the pipeline had to read (form-encoded bodies are checked for `access_token`, signed messages verified). */
  requestBody: Buffer | undefined;
  /** Set by the error handler so the access log can record the decision. */
  rejection: EdgeError | undefined;
  /** Status actually sent when the response was streamed by the proxy. */
  upstreamStatus: number | undefined;
  /** The backend's status when the edge answered its bare refusal (400, 413, 431) in the OFB format instead. */
  upstreamRefusedWith: number | undefined;
  /** The exchange with the backend, once the request is sent to it: upstream time and bytes (access line). */
  exchange: ExchangeMeter | undefined;
  /** Body bytes of the answer the edge produced itself (a rejection), set by the error handler. */
  responseBytes: number | undefined;
  /** The deny-list entry that refused the request: its operator's reason goes to the access line, never to the client. */
  denied: DenyEntry | undefined;
  /** Set by the idempotency stage on a first request: keeps the response the proxy sends, to be stored. */
  responseCapture: ResponseCapture | undefined;
  /** What the idempotency stage made of the request (access line): first, replayed (answered from the store). */
  idempotency: "first" | "replayed" | undefined;
}

export type EdgeEnv = { Bindings: HttpBindings; Variables: EdgeVariables };
