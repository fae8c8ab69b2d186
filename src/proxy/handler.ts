import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import type { Handler } from "hono";
import type { ProxyConfig } from "../config/schema.js";
import type { VerifiedClient } from "../connection/peer-state.js";
import type { EdgeEnv } from "../http/context.js";
import { forward } from "./forward.js";

/**
 * Identity forwarded to the backend until header profiles land: RFC 9440 `Client-Cert` and, when the client
 * sent intermediates, `Client-Cert-Chain` (values encoded once per connection's chain).
 */
export function rfc9440Headers(client: VerifiedClient | null): readonly string[] {
  if (!client) return [];
  const { clientCert, clientCertChain } = client.rfc9440;
  return clientCertChain === null ? ["client-cert", clientCert] : ["client-cert", clientCert, "client-cert-chain", clientCertChain];
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
      identityHeaders: rfc9440Headers(c.get("client")),
      maxBodyBytes: proxy.maxRequestBodyBytes,
      xForwardedFor: proxy.xForwardedFor,
    });
    c.set("upstreamStatus", status);
    return RESPONSE_ALREADY_SENT;
  };
}
