import { createOutboundDispatcher } from "../net/dispatcher.js";
import { exchange as outbound } from "../net/exchange.js";

/** The authorization server could not answer (network, time-out, HTTP status, unusable body): a state of the edge, never a verdict on a token. */
export class AuthorizationServerUnavailableError extends Error {
  override readonly name = "AuthorizationServerUnavailableError";
}

export interface AsResponse {
  readonly status: number;
  readonly body: string;
}

export interface AsHttpOptions {
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  /** PEM bundle for the authorization server's HTTPS certificates; default: Node's bundled CAs. */
  readonly ca?: string | undefined;
  /** The edge's own client certificate, for `tls_client_auth` (RFC 8705 §2). */
  readonly clientCertificate?: { readonly cert: string; readonly key: string } | undefined;
}

/**
 * HTTP to the authorization server: one keep-alive pool, bounded time and body size, no redirects followed.
 * Failures become {@link AuthorizationServerUnavailableError} with a description that names the request.
 */
export function createAsHttp(options: AsHttpOptions) {
  // Its own dispatcher: the TLS options (CA, the edge's client certificate) belong to this server alone.
  const dispatcher = createOutboundDispatcher({
    tls: { ...(options.ca ? { ca: options.ca } : {}), ...(options.clientCertificate ?? {}) },
    connectionsPerOrigin: 32,
  });

  async function exchange(url: string, init: { method: "GET" | "POST"; headers: Record<string, string>; body?: string; signal?: AbortSignal }): Promise<AsResponse> {
    const where = `${init.method} ${new URL(url).pathname}`;
    try {
      const res = await outbound(url, {
        dispatcher,
        method: init.method,
        headers: init.headers,
        ...(init.body !== undefined ? { body: init.body } : {}),
        timeoutMs: options.timeoutMs,
        maxBytes: options.maxResponseBytes,
        limitName: "authorizationServer.maxResponseBytes",
        signal: init.signal,
        // Error answers carry the reason (RFC 6749 §5.2, RFC 7662 §2.3): every status is read, within the limit.
        readBody: () => true,
        where,
      });
      return { status: res.status, body: res.body.toString("utf8") };
    } catch (err) {
      throw new AuthorizationServerUnavailableError(`authorization server unavailable: ${(err as Error).message}`, { cause: err });
    }
  }

  return {
    exchange,
    /** A `fetch` for jose's remote JWK Set (its `customFetch` hook) over this pool and its limits. */
    fetchForJose: async (url: string, init: { signal?: AbortSignal; headers?: ConstructorParameters<typeof Headers>[0] }): Promise<Response> => {
      const headers: Record<string, string> = {};
      new Headers(init.headers).forEach((v, k) => (headers[k] = v));
      const r = await exchange(url, { method: "GET", headers, ...(init.signal ? { signal: init.signal } : {}) });
      return new Response(r.body, { status: r.status });
    },
    close: () => dispatcher.close(),
  };
}

export type AsHttp = ReturnType<typeof createAsHttp>;

/** Parses a JSON object body; anything else is an unusable answer. */
export function jsonObject(body: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new AuthorizationServerUnavailableError(`${what} is not JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new AuthorizationServerUnavailableError(`${what} is not a JSON object`);
  return value as Record<string, unknown>;
}
