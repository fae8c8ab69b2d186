import type { ConfigInput } from "./schema.js";

/** The embedded default's admin port (`/healthz`, `/readyz`, `/metrics`; the container image's health check). */
export const EMBEDDED_ADMIN_PORT = 9090;

/**
 * The embedded default's public base URL: the `aud` of a signed message starts with it (what `ofb-edge dev
 * sign-request` signs for), whichever port the listener is moved to.
 */
export const EMBEDDED_PUBLIC_BASE_URL = "https://localhost:8443";

/**
 * The embedded default (what `ofb-edge serve` runs without a configuration): one permissive listener on :8443 with
 * the generated test PKI, `/open-banking/` requiring mTLS (and an Active participant with the API's role, from the
 * built-in mock directory, in a memory store; a bearer token bound to the client certificate, from the built-in
 * authorization-server stub; and a certificate no CRL lists, the mock directory serving the PKI's CRLs) and
 * `/.well-known/` not, both to the built-in echo backend; the admin listener on 127.0.0.1:9090. The payments API
 * (`/open-banking/payments/`) verifies signed request messages and signs responses with the test PKI's bank key
 * (`jti`s in memory), enforces x-idempotency-key and the traffic limits (memory stores, shared by the workers through
 * the cluster primary, with limits far above what a person with curl sends); the other signed-message APIs follow the
 * built-in table.
 */
export function embeddedConfig(options: {
  readonly serverCert: string;
  readonly serverKey: string;
  readonly trustAnchors: string;
  /** The test PKI's root file: the transport root (`policy.transportRoots`). */
  readonly transportRoot: string;
  readonly upstream: string;
  readonly port: number;
  /** The listener's address: 127.0.0.1, or 0.0.0.0 in a container (OFB_EDGE_EMBEDDED_HOST). */
  readonly host: string;
  /** The built-in mock directory's URLs, and where it serves the test PKI's CRLs (AC SHA-256 → URL). */
  readonly directory: { readonly participantsUrl: string; readonly keystoreUrl: string; readonly crlUrls: Readonly<Record<string, readonly string[]>> };
  /** The built-in authorization-server stub's issuer. */
  readonly issuer: string;
  /** The bank's response signing key (the test PKI's): its organisation id, PEM file and published kid. */
  readonly bank: { readonly organisationId: string; readonly keyFile: string; readonly kid: string };
}): ConfigInput {
  return {
    listeners: [
      {
        name: "edge",
        host: options.host,
        port: options.port,
        mode: "permissive",
        tls: { cert: options.serverCert, key: options.serverKey, trustAnchors: [options.trustAnchors] },
        publicBaseUrl: EMBEDDED_PUBLIC_BASE_URL,
      },
    ],
    policy: { transportRoots: [options.transportRoot] },
    directory: { participantsUrl: options.directory.participantsUrl, keystoreUrl: options.directory.keystoreUrl, store: { type: "memory" } },
    authorizationServer: { issuer: options.issuer },
    messageSigning: { organisationId: options.bank.organisationId, signingKey: { file: options.bank.keyFile, kid: options.bank.kid }, replayStore: { type: "memory" } },
    // The certificates name the mock directory's default address (:8480); this one listens elsewhere.
    revocation: { mode: "crl", urls: Object.fromEntries(Object.entries(options.directory.crlUrls).map(([ac, urls]) => [ac, [...urls]])) },
    admin: { host: "127.0.0.1", port: EMBEDDED_ADMIN_PORT },
    // Nothing balances load onto the embedded default: it stops at once.
    drainDelayMs: 0,
    idempotency: {},
    limits: { families: { payments: { organisation: { perSecond: 50, perMinute: 1_000 } } } },
    routes: [
      {
        name: "payments",
        pathPrefix: "/open-banking/payments/",
        upstream: options.upstream,
        mtls: "required",
        interactionId: "require",
        messageSigning: "verify-and-sign",
        idempotency: "enforce",
        globalPerSecond: 500,
      },
      { name: "open-banking", pathPrefix: "/open-banking/", upstream: options.upstream, mtls: "required", interactionId: "require" },
      { name: "well-known", pathPrefix: "/.well-known/", upstream: options.upstream, mtls: "optional", interactionId: "generate" },
    ],
  };
}
