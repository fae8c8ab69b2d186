/**
 * Header hygiene shared by every request and response.
 *
 * RFC 9110 §7.6.1: hop-by-hop fields (and any field named in `Connection`) are not forwarded.
 * RFC 9440 §2.4 and the spoofing reports against other terminators (traefik/traefik#5061, envoyproxy/envoy#6038,
 * istio/istio#50067, openshift/router PR #805, CVE-2026-46579): any incoming copy of a client-certificate
 * field is removed on every request, mTLS or not, before the edge sets its own; certificate-derived
 * fields never appear in responses.
 */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  "connection",
  "proxy-connection",
  "keep-alive",
  "te",
  "transfer-encoding",
  "upgrade",
  "trailer",
  "proxy-authorization",
  "proxy-authenticate",
]);

/**
 * Exact names of well-known client-certificate / identity fields (each product's documentation: RFC 9440, Envoy,
 * nginx, HAProxy, AWS, Cloudflare, …).
 */
export const CLIENT_CERT_HEADERS: ReadonlySet<string> = new Set([
  "client-cert",
  "client-cert-chain",
  "x-forwarded-client-cert",
  "x-forward-client-cert",
  "ssl-client-cert",
  "ssl-client-verify",
  "ssl-client-subject-dn",
  "ssl-client-issuer-dn",
  "x-arr-clientcert",
  "x-forwarded-tls-client-cert",
  "x-forwarded-tls-client-cert-info",
  "akamai-cc-der",
  "x-client-verify",
  "x-client-dn",
  "x-gravitee-client-cert",
]);

/** Prefixes of client-certificate / identity field families: `X-SSL-*`, ingress-nginx, ALB, Cloudflare, CloudFront, Kong, F5, the edge's own. */
export const CLIENT_CERT_PREFIXES: readonly string[] = [
  "x-ssl-",
  "ssl-client-",
  "x-amzn-mtls-",
  "cf-client-cert-",
  "cf-cert-",
  "cloudfront-viewer-cert-",
  "x-client-cert",
  "sslclientcert",
  "x-ofb-",
];

/** True when `lower` (a lower-case field name) is a client-certificate or edge identity field. */
export function isClientCertHeader(lower: string): boolean {
  // CGI-style backends (and nginx with underscores_in_headers) read `_` and `-` alike: `X_SSL_Client_Cert`
  // reaches them as `X-SSL-Client-Cert`, so both spellings are the same field here.
  const name = lower.includes("_") ? lower.replace(/_/g, "-") : lower;
  if (CLIENT_CERT_HEADERS.has(name)) return true;
  for (const p of CLIENT_CERT_PREFIXES) if (name.startsWith(p)) return true;
  return false;
}

/** Field names listed in `Connection` (RFC 9110 §7.6.1), lower-cased. */
export function connectionTokens(value: string | undefined): ReadonlySet<string> | null {
  // The common values name no other field ("keep-alive" and "close" are hop-by-hop already).
  if (!value || value === "keep-alive" || value === "close") return null;
  return new Set(value.split(",").map((t) => t.trim().toLowerCase()).filter(Boolean));
}

/**
 * The anti-spoofing predicate (docs/architecture.md §Header profiles): a field is stripped from every request and
 * response when it is a well-known client-certificate field or any field a loaded header profile can emit — not only
 * the active profile's, so switching profiles never lets a spoofed copy of another profile's field through.
 */
export function createStripPredicate(profileFields: ReadonlySet<string>): (lowerName: string) => boolean {
  return (lower) => isClientCertHeader(lower) || profileFields.has(lower) || (lower.includes("_") && profileFields.has(lower.replace(/_/g, "-")));
}
