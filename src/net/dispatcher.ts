import { Agent, interceptors, type Dispatcher } from "undici";

/** Options of {@link createOutboundDispatcher}; every field has an explicit default. */
export interface OutboundDispatcherOptions {
  /** TCP + TLS connection set-up bound. Default 10 s. */
  readonly connectTimeoutMs?: number;
  /** Idle keep-alive connections are closed after this long. Default 4 s (below common server keep-alive time-outs). */
  readonly keepAliveTimeoutMs?: number;
  /** Connections per origin. Default 16. */
  readonly connectionsPerOrigin?: number;
  /** TLS client options for HTTPS origins: a CA bundle instead of Node's, the edge's own certificate (RFC 8705 §2). */
  readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string };
}

/**
 * The edge's outbound HTTP client. Every call the product makes to another server (Directory, keystore,
 * authorization server, CRL and OCSP responders, trust sources) goes through a dispatcher created here, never
 * through undici's process-global one: importing `@hono/node-server` replaces that with the undici bundled in
 * Node, whose dispatcher cannot take this undici's interceptors (`invalid onError method`), and any library
 * may change it again. The caller owns the dispatcher and closes it.
 */
export function createOutboundDispatcher(options: OutboundDispatcherOptions = {}): Dispatcher {
  const tls = options.tls ?? {};
  return new Agent({
    connect: {
      timeout: options.connectTimeoutMs ?? 10_000,
      ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
      ...(tls.cert !== undefined ? { cert: tls.cert } : {}),
      ...(tls.key !== undefined ? { key: tls.key } : {}),
    },
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 4_000,
    connections: options.connectionsPerOrigin ?? 16,
  });
}

/**
 * `dispatcher` following at most `max` redirects (RFC 9110 §15.4). Only trust sources use this: gov.br hosts
 * move files around. Every other outbound call treats a redirect as the answer it is.
 */
export function followingRedirects(dispatcher: Dispatcher, max: number): Dispatcher {
  return dispatcher.compose(interceptors.redirect({ maxRedirections: max }));
}
