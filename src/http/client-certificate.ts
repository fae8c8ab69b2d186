import type { IncomingMessage } from "node:http";
import type { MiddlewareHandler } from "hono";
import type { PeerState } from "../connection/peer-state.js";
import type { DenyList } from "../deny/deny-list.js";
import type { RevocationService } from "../revocation/service.js";
import type { ClientWatch } from "../metrics/operational.js";
import { EdgeError } from "../errors.js";
import { checkValidity } from "../pki/policy.js";
import { connectionOf } from "../tls/peer.js";
import type { EdgeEnv } from "./context.js";

/**
 * Stage: the client certificate. The connection's verdict (chain policy + identity) was computed once per connection;
 * per request only the validity window is compared with the injected clock. On a route with `mtls: required` anything
 * but an accepted, currently valid certificate is a 401 and is never forwarded (permissive listeners answer in HTTP:
 * docs/architecture.md, decision D3). On `optional` routes a bad certificate is not forwarded.
 */
export function clientCertificate(deps: {
  peer: (incoming: IncomingMessage, socket: object) => PeerState;
  now: () => number;
  /** The instant deny list, checked per request so that it reaches connections already open. */
  deny: DenyList | null;
  /** Operational metrics and signals about the clients seen (expiry, first seen). */
  watch?: ClientWatch;
  /**
   * Revocation status of the chain, checked per request (a CRL can change while a connection is open). What the
   * first check needs and is not held yet (the first CRL of each AC in the chain, OCSP answers) is awaited once
   * per connection and client, before that check, within the service's bounds.
   */
  revocation?: RevocationService;
}): MiddlewareHandler<EdgeEnv> {
  // The client last prepared for on each connection: one per connection with mTLS, but a trusted terminator's
  // connection carries many clients, each of which needs its own CRLs and OCSP answers before its first check.
  const preparedFor = new WeakMap<object, object>();
  return async function clientCertificate(c, next) {
    const state = deps.peer(c.env.incoming, c.env.incoming.socket);
    c.set("peer", state);
    const required = c.get("route")?.config.mtls === "required";
    let client = null;
    if (state.status === "accepted") {
      const now = deps.now();
      const expired = checkValidity(state.client.verdict, now);
      const socket = connectionOf(c.env.incoming.socket);
      if (!expired && deps.revocation && preparedFor.get(socket) !== state.client) {
        preparedFor.set(socket, state.client);
        await deps.revocation.prepare(state.client.verdict.chain, now);
      }
      const revoked = expired || !deps.revocation ? null : deps.revocation.check(state.client.verdict.chain, now);
      const invalid = expired ?? (revoked && !revoked.ok ? revoked : null);
      if (invalid && required) throw new EdgeError(invalid.code, "pki", invalid.detail, { certIndex: invalid.certIndex });
      if (!invalid) client = state.client;
      if (client) deps.watch?.observe(client);
      const denied = client && deps.deny ? deps.deny.match(client, now) : null;
      if (denied) {
        // The operator's reason stays in the logs (the access line's denyReason); the client learns only the rule.
        c.set("denied", denied);
        if (denied.kind === "thumbprint") throw new EdgeError("CERT_DENIED", "pki", "this client certificate is on the edge's deny list");
        throw new EdgeError("PARTICIPANT_DENIED", "directory", `this ${denied.kind === "organisation" ? "organisation" : "software statement"} is on the edge's deny list`);
      }
    } else if (required) {
      if (state.status === "absent") throw new EdgeError("CERT_REQUIRED", "tls", "this route requires a client certificate (mutual TLS)");
      const f = state.failure;
      throw new EdgeError(f.code, f.stage, f.detail, { certIndex: f.certIndex });
    }
    c.set("client", client);
    await next();
  };
}
