import type { ConfigInput } from "./schema.js";

/**
 * The embedded default (DESIGN §Configuration): one permissive listener on :8443 with the generated test
 * PKI, `/open-banking/` requiring mTLS (and an Active participant with the API's role, from the built-in mock
 * directory, in a memory store, and a bearer token bound to the client certificate, from the built-in
 * authorization-server stub) and `/.well-known/` not, both to the built-in echo backend.
 */
export function embeddedConfig(options: {
  readonly serverCert: string;
  readonly serverKey: string;
  readonly trustAnchors: string;
  /** The test PKI's root file: the transport root (`policy.transportRoots`). */
  readonly transportRoot: string;
  readonly upstream: string;
  readonly port: number;
  /** The built-in mock directory's URLs. */
  readonly directory: { readonly participantsUrl: string; readonly keystoreUrl: string };
  /** The built-in authorization-server stub's issuer. */
  readonly issuer: string;
}): ConfigInput {
  return {
    listeners: [
      {
        name: "edge",
        host: "127.0.0.1",
        port: options.port,
        mode: "permissive",
        tls: { cert: options.serverCert, key: options.serverKey, trustAnchors: [options.trustAnchors] },
      },
    ],
    policy: { transportRoots: [options.transportRoot] },
    directory: { participantsUrl: options.directory.participantsUrl, keystoreUrl: options.directory.keystoreUrl, store: { type: "memory" } },
    authorizationServer: { issuer: options.issuer },
    // The generated test PKI names CRL distribution points but publishes no CRLs.
    revocation: { mode: "off" },
    routes: [
      { name: "open-banking", pathPrefix: "/open-banking/", upstream: options.upstream, mtls: "required", interactionId: "require" },
      { name: "well-known", pathPrefix: "/.well-known/", upstream: options.upstream, mtls: "optional", interactionId: "generate" },
    ],
  };
}
