import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import type { Handler } from "hono";
import type { ProxyConfig } from "../config/schema.js";
import type { VerifiedToken } from "../binding/types.js";
import type { VerifiedClient } from "../connection/peer-state.js";
import type { EdgeEnv, EdgeVariables } from "../http/context.js";
import { forward } from "./forward.js";

/**
 * Identity forwarded to the backend until header profiles land (DESIGN D9): RFC 9440 `Client-Cert` and, when
 * the client sent intermediates, `Client-Cert-Chain` (values encoded once per connection's chain), then the
 * participant as read from the certificate (`x-ofb-organisation-id`, `x-ofb-software-statement-id`,
 * `x-ofb-cnpj`), on routes that checked the Directory its Active roles (`x-ofb-roles`), and on routes that
 * checked a bound access token its `client_id` (`x-ofb-client-id`). Incoming copies
 * of all of these were removed by the sanitizer (`x-ofb-*`, client-cert families).
 */
export function identityHeaders(client: VerifiedClient | null, participant: EdgeVariables["participant"], token?: VerifiedToken): readonly string[] {
  if (!client) return [];
  const { clientCert, clientCertChain } = client.rfc9440;
  const { identity } = client;
  const out = ["client-cert", clientCert];
  if (clientCertChain !== null) out.push("client-cert-chain", clientCertChain);
  out.push("x-ofb-organisation-id", identity.organisationId, "x-ofb-software-statement-id", identity.softwareStatementId);
  if (identity.cnpj !== null) out.push("x-ofb-cnpj", identity.cnpj);
  if (participant) out.push("x-ofb-roles", participant.roles);
  if (token?.clientId !== undefined) out.push("x-ofb-client-id", token.clientId);
  return out;
}

/** Final stage: stream the request to the route's upstream; the response is written straight to the socket. */
export function forwardToUpstream(proxy: ProxyConfig): Handler<EdgeEnv> {
  return async function forwardToUpstream(c) {
    const route = c.get("route")!;
    const status = await forward({
      incoming: c.env.incoming,
      outgoing: c.env.outgoing,
      upstream: route.upstream,
      route: route.config.name,
      interactionId: c.get("interactionId"),
      identityHeaders: identityHeaders(c.get("client"), c.get("participant"), c.get("bindingReport") ? undefined : c.get("token")),
      body: c.get("requestBody"),
      maxBodyBytes: proxy.maxRequestBodyBytes,
      xForwardedFor: proxy.xForwardedFor,
    });
    c.set("upstreamStatus", status);
    return RESPONSE_ALREADY_SENT;
  };
}
