import { AuthorizationServerUnavailableError, jsonObject, type AsHttp } from "./as-http.js";

/** The authorization-server metadata the edge uses (OpenID Connect Discovery 1.0 §3, RFC 8414 §2, RFC 8705 §5). */
export interface AsMetadata {
  readonly jwksUri: string | undefined;
  readonly introspectionEndpoint: string | undefined;
  /** RFC 8705 §5 `mtls_endpoint_aliases.introspection_endpoint`. */
  readonly mtlsIntrospectionEndpoint: string | undefined;
}

/**
 * Reads `<issuer>/.well-known/openid-configuration` on first use (never at start-up: the edge starts while the
 * authorization server is down), single-flight, and again after `maxAgeMs`; a failed refresh keeps the last
 * good metadata. The document's `issuer` must equal the configured one (RFC 8414 §3.3).
 */
export function createDiscovery(options: { url: string; issuer: string; http: AsHttp; maxAgeMs: number; now: () => number }) {
  let current: { metadata: AsMetadata; at: number } | undefined;
  let pending: Promise<AsMetadata> | undefined;

  async function load(): Promise<AsMetadata> {
    const res = await options.http.exchange(options.url, { method: "GET", headers: { accept: "application/json" } });
    if (res.status !== 200) throw new AuthorizationServerUnavailableError(`authorization server unavailable: discovery answered HTTP ${res.status}`);
    const doc = jsonObject(res.body, "the discovery document");
    if (doc.issuer !== options.issuer) throw new AuthorizationServerUnavailableError(`discovery document's issuer is not the configured issuer ${options.issuer} (RFC 8414 §3.3)`);
    const aliases = typeof doc.mtls_endpoint_aliases === "object" && doc.mtls_endpoint_aliases !== null ? (doc.mtls_endpoint_aliases as Record<string, unknown>) : {};
    const metadata = { jwksUri: httpUrl(doc.jwks_uri), introspectionEndpoint: httpUrl(doc.introspection_endpoint), mtlsIntrospectionEndpoint: httpUrl(aliases.introspection_endpoint) };
    current = { metadata, at: options.now() };
    return metadata;
  }

  return {
    async get(): Promise<AsMetadata> {
      if (current && options.now() - current.at < options.maxAgeMs) return current.metadata;
      pending ??= load().finally(() => (pending = undefined));
      if (!current) return pending;
      // Stale: refresh, but keep serving the last good metadata if the refresh fails.
      return pending.catch(() => current!.metadata);
    },
  };
}

function httpUrl(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  try {
    const u = new URL(value);
    return u.protocol === "https:" || u.protocol === "http:" ? u.href : undefined;
  } catch {
    return undefined;
  }
}
