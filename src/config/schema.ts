import { z } from "zod";
import { identityAssertionSchema } from "../profiles/assertion-config.js";
import { passthroughSchema } from "../tls/passthrough-config.js";
import { revocationSchema } from "../revocation/config.js";
import { SHA256_FINGERPRINT } from "../pki/thumbprint.js";
import { ICP_BRASIL_PINS } from "../pki/icp-brasil-roots.js";
import { keyPrefixSchema, redisConfigIssues, redisSchema, redisStoreShape, userUrlSchema, type RedisUserConfig } from "../redis/config.js";
import { idempotencySchema, routeIdempotencySchema } from "../idempotency/config.js";
import { limitsSchema, routeLimitsSchema } from "../limits/config.js";
import { MESSAGE_ALGORITHMS, messageSigningSchema, publicBaseUrlSchema } from "../messages/signing-config.js";
import { prefixMayServeSignedFamily } from "../messages/signing-routes.js";

/**
 * The configuration file's schema. It is the only description of the file: `schema/config.schema.json`
 * (for editor completion) is generated from it by `npm run schema`, and a test keeps the two equal.
 * Unknown keys are errors everywhere (`strictObject`), so a typo never silently falls back to a default.
 */

const name = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "lowercase letters, digits and '-', at most 63 characters");
const port = z.number().int().min(0).max(65535);
const duration = (def: number) => z.number().int().positive().default(def);

export const tlsSchema = z.strictObject({
  cert: z.string().min(1).describe("PEM file: the server certificate followed by its intermediate(s)."),
  key: z.string().min(1).describe("PEM file: the server private key."),
  keyPassphrase: z.string().optional().describe("Passphrase of an encrypted key; prefer the environment variable OFB_EDGE_LISTENER_<NAME>_KEY_PASSPHRASE."),
  trustAnchors: z
    .array(z.string().min(1))
    .min(1)
    .describe("PEM files with the certificates client chains are validated against: the roots (the anchors) and, optionally, the ACs a client chain may pass through (what `ofb-edge trust fetch` writes). When the files hold ACs, a client's AC must be one of them; either way the client must send its own AC."),
  dhe: z
    .boolean()
    .default(false)
    .describe("Also allow DHE-RSA-AES128/256-GCM for TLS 1.2 (FAPI 1 Part 2 §8.5). Off by default: OFB requires only the ECDHE-RSA suites."),
  dhparam: z.string().min(1).optional().describe("PEM file with DH parameters (≥ 2048 bits) when dhe is on; default: OpenSSL's built-in groups."),
});

/** The ALPN protocol ids the TLS listeners can offer (RFC 7301 §6, IANA registry). */
export const HTTP_PROTOCOLS = ["h2", "http/1.1"] as const;

export const http2Schema = z.strictObject({
  maxConcurrentStreams: z
    .number()
    .int()
    .min(1)
    .max(1_000)
    .default(100)
    .describe("Requests (streams) one HTTP/2 connection may have open at a time (SETTINGS_MAX_CONCURRENT_STREAMS, RFC 9113 §6.5.2); more are refused with RST_STREAM REFUSED_STREAM, and a connection that keeps opening them is closed."),
  maxSessionMemoryMb: z
    .number()
    .int()
    .min(1)
    .max(1_024)
    .default(10)
    .describe("Memory one HTTP/2 connection may hold (header compression state, frames not yet sent); while over it, its new streams are refused (RST_STREAM ENHANCE_YOUR_CALM), which counts towards closing the connection like any refused stream."),
});

export const httpSchema = z
  .strictObject({
    maxHeaderBytes: z.number().int().min(1024).max(1 << 20).default(16384).describe("Request line and header fields, as the client sent them; more is refused with 431."),
    keepAliveTimeoutMs: duration(5_000).describe("An idle connection is closed after this long; also how long the edge waits for a client to close after a final error answer."),
    headersTimeoutMs: duration(10_000).describe("The request line and header fields must arrive within this long of the connection or of the previous request; then 408."),
    requestTimeoutMs: duration(60_000).describe("The whole request, body included, must arrive within this long; then 408. At least headersTimeoutMs."),
    handshakeTimeoutMs: z.number().int().min(100).max(120_000).default(10_000).describe("A TLS handshake must complete within this long of the TCP connection (an idle or dribbling client is closed)."),
    maxHandshakesPerSource: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .default(64)
      .describe("Unfinished TLS handshakes one source address may have at a time; more connections from it are refused until some complete. Behind an L4 load balancer that does not preserve client addresses, raise it to what the balancer sends at once."),
    protocols: z
      .array(z.enum(HTTP_PROTOCOLS))
      .min(1)
      .refine((p) => new Set(p).size === p.length, "each protocol at most once")
      .default([...HTTP_PROTOCOLS])
      .describe("Application protocols offered in ALPN (RFC 7301), in the edge's order of preference: h2 (HTTP/2, RFC 9113) and http/1.1. A client that offers no ALPN speaks HTTP/1.1; one that offers only protocols not listed is refused in the handshake (no_application_protocol). [\"http/1.1\"] turns HTTP/2 off."),
    http2: http2Schema.default(http2Schema.parse({})).describe("HTTP/2 limits per connection (used when protocols lists h2)."),
  })
  .superRefine((h, ctx) => {
    if (h.headersTimeoutMs > h.requestTimeoutMs) ctx.addIssue({ code: "custom", path: ["headersTimeoutMs"], message: `must not exceed requestTimeoutMs (${h.requestTimeoutMs})` });
  });

/** A listener that terminates TLS (strict, permissive, trusted-proxy). */
export const tlsListenerSchema = z.strictObject({
  name,
  host: z.string().min(1).default("0.0.0.0"),
  port,
  mode: z
    .enum(["strict", "permissive", "trusted-proxy"])
    .describe("strict: a connection without a valid, policy-conforming client certificate fails at the handshake. permissive: any or no certificate is accepted at the handshake; each route decides. trusted-proxy: behind another TLS terminator (CDN, load balancer) that forwards the client certificate in a header (see trustedProxy)."),
  tls: tlsSchema,
  trustedProxy: z
    .strictObject({
      profile: name.describe("The header profile the terminator's fields follow (e.g. rfc9440, aws-alb-passthrough, envoy-xfcc, nginx-ingress), read in the decode direction."),
      sources: z
        .array(z.string().min(1))
        .default([])
        .describe("Addresses or CIDR blocks (IPv4/IPv6) of the terminator; its fields are believed only from these (or over mTLS, see clientTrustAnchors)."),
      clientTrustAnchors: z
        .array(z.string().min(1))
        .optional()
        .describe("PEM bundles of the CA that issued the terminator's own client certificate: a connection presenting a certificate verified against them is trusted."),
    })
    .optional()
    .describe("mode trusted-proxy: where the client certificate comes from. From anyone else its fields are stripped and the request has no certificate."),
  http: httpSchema.default(httpSchema.parse({})),
  routes: z.array(name).min(1).optional().describe("Names of the routes served on this listener; default: all routes."),
  publicBaseUrl: publicBaseUrlSchema
    .optional()
    .describe("How clients address this listener, as the bank publishes its APIs (e.g. https://api.banco.com.br): a signed request's `aud` must be this followed by the request path. A route's own publicBaseUrl takes precedence."),
});

/** A listener that does not terminate TLS: no tls, http, routes or trustedProxy section (unknown keys are errors). */
export const passthroughListenerSchema = z.strictObject({
  name,
  host: z.string().min(1).default("0.0.0.0"),
  port,
  mode: z.literal("passthrough").describe("passthrough: TLS is not terminated; connections are routed by SNI, as TCP, to backends that terminate TLS themselves (no certificate checks, no identity forwarding)."),
  passthrough: passthroughSchema,
});

/** `mode` chooses the shape: only a TLS-terminating listener has (and needs) a `tls` section. */
export const listenerSchema = z.discriminatedUnion("mode", [tlsListenerSchema, passthroughListenerSchema]);

const role = z.string().regex(/^[A-Z]{2,16}$/, "an OFB role name such as DADOS or PAGTO");

export const routeSchema = z.strictObject({
  name,
  pathPrefix: z.string().startsWith("/").describe("Requests whose path starts with this prefix use this route; the longest prefix wins."),
  upstream: z
    .url({ protocol: /^https?$/ })
    .describe("Origin (and optional base path) of the bank backend, e.g. http://10.0.0.5:8080."),
  mtls: z.enum(["required", "optional"]).default("required").describe("required: no valid client certificate, no forwarding (HTTP 401 on permissive listeners)."),
  interactionId: z
    .enum(["require", "generate"])
    .default("require")
    .describe("require: missing/invalid x-fapi-interaction-id → 400 with a generated id (OFB API contract). generate: generate one and serve (FAPI 1 Part 1 §6.2.1)."),
  participant: z
    .enum(["check", "off"])
    .optional()
    .describe("check: the certificate's organisation must be Active in the Directory, with the role this API needs (and, with requireRegisteredCertificate, the certificate an active transport key). Default: check on mtls-required routes when `directory` is configured, off otherwise."),
  role: z
    .union([role, z.literal("auto"), z.null()])
    .default("auto")
    .describe("The Directory role this route requires. auto: from the API family in /open-banking/<family>/ (directory.roleByFamily, else directory.defaultRole); other paths need none. null: none."),
  binding: z
    .enum(["enforce", "report", "off"])
    .optional()
    .describe("Access-token binding (RFC 8705). enforce: a valid bearer token bound to the client certificate (cnf.x5t#S256) is required. report: the token must be valid, a missing or wrong binding is logged and counted but forwarded (migrations). off: the edge does not look at tokens. Default: enforce on mtls-required routes when `authorizationServer` is configured, off otherwise."),
  profiles: z
    .array(name)
    .default(["rfc9440", "ofb-identity"])
    .describe("Header profiles (built-in names or the operator's, see headerProfiles) that forward the verified identity to this route's backend, applied in order; [] forwards none."),
  profilesByOrganisation: z
    .record(z.uuid(), z.array(name).min(1))
    .optional()
    .describe("Per calling organisation (OFB organisation id), other profiles for this route."),
  scopes: z
    .array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, "an RFC 6749 scope token"))
    .optional()
    .describe("Scopes the access token must all carry (403 insufficient_scope otherwise). Needs binding enforce or report."),
  // Message-level rules: signed messages, idempotency and traffic limits.
  // Signed messages (OFB security profile, "Message Content Signing Considerations (JWS)"): one block.
  messageSigning: z
    .enum(["verify", "verify-and-sign", "off"])
    .optional()
    .describe(
      "Signed payment messages (JWS, application/jwt). verify: a request body must be a JWS of the calling organisation (alg, kid of an active key in its Directory application.jwks, iss, aud, iat, a jti never seen before), forwarded byte for byte. verify-and-sign: also the response is signed by the edge (messageSigning.signingKey). off: neither. Default, with a `messageSigning` section: the built-in OFB table (payments, automatic-payments, enrollments, credit-portability, payroll-credit-portability: verify-and-sign with a signing key, verify without; other paths off); without one: off.",
    ),
  publicBaseUrl: publicBaseUrlSchema.optional().describe("How clients address this route (overrides the listener's publicBaseUrl): a signed request's `aud` must be this followed by the request path."),
  idempotency: routeIdempotencySchema,
  ...routeLimitsSchema,
});

/** ICP-Brasil root v10 (SHA-256 of its DER): the OFB transport hierarchy, the same pin `ofb-edge trust fetch` builds from. */
export const DEFAULT_TRANSPORT_ROOTS: readonly string[] = ICP_BRASIL_PINS.pinned.filter((pin) => ICP_BRASIL_PINS.transportRoots.includes(pin.name)).map((pin) => pin.sha256);

export const policySchema = z.strictObject({
  minRsaBits: z.number().int().min(1024).max(16384).default(2048),
  transportRoots: z
    .array(z.string().min(1))
    .min(1)
    .default([...DEFAULT_TRANSPORT_ROOTS])
    .describe("The roots of the transport hierarchy: SHA-256 fingerprints (hex, colons optional) or PEM files whose certificates are pinned by their SHA-256. A client chain must end at one of them, whatever the trust-anchor files hold (OFB: transport certificates are issued under ICP-Brasil root v10; v5 e-CNPJ certificates carry clientAuth too). Default: ICP-Brasil root v10."),
  allowedIssuers: z
    .array(z.string().regex(SHA256_FINGERPRINT, "a SHA-256 fingerprint in hex (colons optional)"))
    .optional()
    .describe("SHA-256 fingerprints of the issuing ACs allowed to issue client certificates; default: the ACs of the trust-anchor files, or any AC under the anchors when the files hold roots only."),
  requireIntermediate: z.boolean().default(true).describe("The client must send its intermediate: a leaf whose AC the client did not send (even if the trust-anchor files hold it), or one issued directly by a root, is rejected."),
  allowOpenInsurance: z.boolean().default(false).describe("Accept OPIBR- (Open Insurance Brasil) organisation identifiers; Open Finance Brasil certificates carry OFBBR-."),
  cnpj: z
    .enum(["flag", "refuse"])
    .default("flag")
    .describe("A certificate CNPJ (serialNumber or otherName 2.16.76.1.3.3) of 8 to 14 characters [0-9A-Z] that fails its check digits, as the OFB sandbox's own certificates carry: flag forwards the participant (identified by organisation id and software statement id) with the CNPJ marked unverified (x-ofb-cnpj-verified: false, cnpj_verified in the identity assertion); refuse answers 401 IDENTITY_CNPJ_INVALID. A value of any other shape is refused either way."),
});

export const proxySchema = z.strictObject({
  connectTimeoutMs: duration(5_000),
  headersTimeoutMs: duration(30_000),
  bodyTimeoutMs: duration(30_000),
  maxRequestBodyBytes: z.number().int().min(0).default(10 * 1024 * 1024),
  connectionsPerUpstream: z.number().int().min(1).max(4096).default(256),
  keepAliveTimeoutMs: duration(4_000),
  xForwardedFor: z.enum(["replace", "append"]).default("replace").describe("replace: the edge is the trust boundary, any incoming X-Forwarded-For is discarded."),
  maxUpstreamHeaderBytes: z
    .number()
    .int()
    .min(1024)
    .max(1 << 20)
    .default(16384)
    .describe("The request head the backend accepts (request line and header fields, the identity fields the edge adds included); a request over it is refused with 431 before the backend. Default: Node's and many frameworks' 16 KiB."),
});

/** The OFB Directory's public participants document (swagger_participants.yaml v1.1.0) and keystore. */
export const DIRECTORY_PRESETS = {
  production: {
    participantsUrl: "https://data.directory.openbankingbrasil.org.br/participants",
    keystoreUrl: "https://keystore.directory.openbankingbrasil.org.br/",
  },
  sandbox: {
    participantsUrl: "https://data.sandbox.directory.openbankingbrasil.org.br/participants",
    keystoreUrl: "https://keystore.sandbox.directory.openbankingbrasil.org.br/",
  },
} as const;

/** Our reading of the role scopes of OFB DCR v2.1.0 §7.2: data-sharing families need DADOS, payment families PAGTO. */
export const DEFAULT_ROLE_BY_FAMILY: Readonly<Record<string, string>> = {
  payments: "PAGTO",
  "payments-consents": "PAGTO",
  "payments-pix": "PAGTO",
  "automatic-payments": "PAGTO",
  "recurring-payments": "PAGTO",
  "nrp-consents": "PAGTO",
  accounts: "DADOS",
  "credit-cards-accounts": "DADOS",
  consents: "DADOS",
  customers: "DADOS",
  resources: "DADOS",
  loans: "DADOS",
  financings: "DADOS",
  "invoice-financings": "DADOS",
  "unarranged-accounts-overdraft": "DADOS",
  "credit-fixed-incomes": "DADOS",
  "bank-fixed-incomes": "DADOS",
  "variable-incomes": "DADOS",
  "treasure-titles": "DADOS",
  funds: "DADOS",
  exchanges: "DADOS",
  "credit-portability": "DADOS",
};

const storeSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("memory") }),
  z.strictObject(redisStoreShape()),
]);

export const directorySchema = z
  .strictObject({
    preset: z.enum(["production", "sandbox"]).optional().describe("Fills participantsUrl and keystoreUrl with the OFB Directory's own."),
    participantsUrl: z.url({ protocol: /^https?$/ }).optional(),
    keystoreUrl: z.url({ protocol: /^https?$/ }).optional().describe("Base URL of the keystore; <org>/<software statement>/transport.jwks is appended."),
    store: storeSchema.default({ type: "memory" }),
    refreshIntervalMs: z.number().int().min(10_000).default(300_000).describe("The Directory itself caches for 15 minutes."),
    maxStalenessMs: z.number().int().min(60_000).default(86_400_000).describe("Serve the last good snapshot this long when the Directory is unreachable; then 503 DIRECTORY_UNAVAILABLE."),
    fetchTimeoutMs: duration(30_000),
    maxDocumentBytes: z.number().int().min(1024).default(64 * 1024 * 1024),
    lockTtlMs: duration(120_000),
    connectionRecheckMs: duration(60_000).describe("A connection re-asks the directory (and keystore) for its verdict after this long, and whenever a new snapshot is published."),
    requireRegisteredCertificate: z.boolean().default(true).describe("The certificate's x5t#S256 must be an active key in <org>/<UID>/transport.jwks (docs/architecture.md, decision D6)."),
    keystore: z
      .strictObject({
        ttlMs: duration(900_000),
        negativeTtlMs: duration(60_000),
        timeoutMs: duration(5_000),
        maxBytes: z.number().int().min(1024).default(1024 * 1024),
      })
      .default({ ttlMs: 900_000, negativeTtlMs: 60_000, timeoutMs: 5_000, maxBytes: 1024 * 1024 }),
    roleByFamily: z.record(z.string().regex(/^[a-z0-9-]+$/), role).default({ ...DEFAULT_ROLE_BY_FAMILY }),
    defaultRole: role.default("DADOS").describe("Role for /open-banking/<family>/ families not in roleByFamily."),
  })
  .transform((d, ctx) => {
    const preset = d.preset ? DIRECTORY_PRESETS[d.preset] : undefined;
    const participantsUrl = d.participantsUrl ?? preset?.participantsUrl;
    const keystoreUrl = d.keystoreUrl ?? preset?.keystoreUrl;
    if (!participantsUrl) ctx.addIssue({ code: "custom", path: ["participantsUrl"], message: "required (or set preset)" });
    if (!keystoreUrl && d.requireRegisteredCertificate) ctx.addIssue({ code: "custom", path: ["keystoreUrl"], message: "required when requireRegisteredCertificate is on (or set preset)" });
    return { ...d, participantsUrl: participantsUrl ?? "", keystoreUrl: keystoreUrl === undefined ? "" : keystoreUrl.endsWith("/") ? keystoreUrl : `${keystoreUrl}/` };
  });

/** Algorithms a resource server may accept for JWT access tokens: asymmetric only (no HS*, never `none`). */
export const TOKEN_ALGORITHMS = [...MESSAGE_ALGORITHMS, "EdDSA"] as const;

const introspectionAuthSchema = z.discriminatedUnion("method", [
  z.strictObject({
    method: z.literal("tls_client_auth"),
    clientId: z.string().min(1),
    cert: z.string().min(1).describe("PEM file: the edge's client certificate (and intermediates) for the introspection endpoint."),
    key: z.string().min(1).describe("PEM file: its private key."),
  }),
  z.strictObject({
    method: z.literal("private_key_jwt"),
    clientId: z.string().min(1),
    key: z.string().min(1).describe("PEM file: the PKCS#8 private key that signs the client assertion (RFC 7523)."),
    algorithm: z.enum(["PS256", "ES256", "RS256"]).default("PS256"),
    kid: z.string().min(1).optional(),
  }),
  z.strictObject({
    method: z.enum(["client_secret_basic", "client_secret_post"]),
    clientId: z.string().min(1),
    clientSecret: z.string().min(1).optional().describe("Prefer the environment variable OFB_EDGE_INTROSPECTION_CLIENT_SECRET."),
  }),
]);

export const authorizationServerSchema = z
  .strictObject({
    issuer: z.url({ protocol: /^https?$/ }).describe("The authorization server's issuer: JWT access tokens must carry exactly this `iss`."),
    jwksUri: z.url({ protocol: /^https?$/ }).optional().describe("Default: `jwks_uri` from <issuer>/.well-known/openid-configuration (fetched on first use)."),
    discoveryUrl: z.url({ protocol: /^https?$/ }).optional().describe("Default: <issuer>/.well-known/openid-configuration."),
    algorithms: z.array(z.enum(TOKEN_ALGORITHMS)).min(1).default(["PS256"]).describe("JWS algorithms accepted for JWT access tokens (FAPI: PS256)."),
    audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional().describe("When set, the JWT `aud` must contain one of these."),
    clockSkewSeconds: z.number().int().min(0).max(300).default(5).describe("Tolerance for `exp`/`nbf`, in seconds."),
    format: z
      .enum(["auto", "jwt", "introspection"])
      .default("auto")
      .describe("auto: JWS-shaped tokens are verified locally, others introspected (when introspection is configured). jwt: every token must be a JWT. introspection: every token is introspected."),
    maxTokenLength: z.number().int().min(64).max(16384).default(4096),
    realm: z.string().regex(/^[\x20\x21\x23-\x5B\x5D-\x7E]{1,64}$/).optional().describe("`realm` of the WWW-Authenticate challenge."),
    caFile: z.string().min(1).optional().describe("PEM bundle trusted for the authorization server's HTTPS endpoints; default: Node's bundled CAs."),
    timeoutMs: duration(5_000).describe("Time-out for discovery, JWKS and introspection requests."),
    maxResponseBytes: z.number().int().min(1024).default(512 * 1024),
    jwks: z
      .strictObject({
        cooldownMs: z.number().int().min(0).default(30_000).describe("After a refetch, an unknown `kid` does not refetch again for this long (jose cooldownDuration)."),
        cacheMaxAgeMs: z.number().int().min(1_000).default(600_000).describe("Keys older than this are refetched (jose cacheMaxAge); the last known keys stay in use while the JWKS cannot be fetched."),
      })
      .default({ cooldownMs: 30_000, cacheMaxAgeMs: 600_000 }),
    introspection: z
      .strictObject({
        endpoint: z.url({ protocol: /^https?$/ }).optional().describe("Default: from discovery (`mtls_endpoint_aliases.introspection_endpoint` with tls_client_auth, else `introspection_endpoint`)."),
        auth: introspectionAuthSchema,
      })
      .optional()
      .describe("RFC 7662 introspection for opaque access tokens."),
    cache: z
      .strictObject({
        maxTtlMs: z.number().int().min(1_000).max(3_600_000).default(900_000).describe("A verified token is remembered until its `exp`, at most this long (OFB tokens live 300–900 s)."),
        negativeTtlMs: z.number().int().min(0).max(300_000).default(10_000).describe("How long a token found invalid is remembered as invalid."),
        maxEntries: z.number().int().min(1).default(100_000),
      })
      .default({ maxTtlMs: 900_000, negativeTtlMs: 10_000, maxEntries: 100_000 }),
  })
  .superRefine((a, ctx) => {
    if (a.format === "introspection" && !a.introspection) ctx.addIssue({ code: "custom", path: ["introspection"], message: "required when format is 'introspection'" });
    const auth = a.introspection?.auth;
    if (auth && (auth.method === "client_secret_basic" || auth.method === "client_secret_post") && auth.clientSecret === undefined)
      ctx.addIssue({ code: "custom", path: ["introspection", "auth", "clientSecret"], message: "required (or set OFB_EDGE_INTROSPECTION_CLIENT_SECRET)" });
  });

export const adminSchema = z.strictObject({
  host: z.string().min(1).default("127.0.0.1"),
  port,
  expiryWarningDays: z.number().int().min(1).max(3650).default(30).describe("Log a warning this many days before a server certificate, trust anchor, AC or client certificate seen expires."),
});

export const logSchema = z.strictObject({
  level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export const configSchema = z
  .strictObject({
    $schema: z.string().optional(),
    listeners: z.array(listenerSchema).min(1),
    routes: z.array(routeSchema).min(1),
    policy: policySchema.default(policySchema.parse({})),
    proxy: proxySchema.default(proxySchema.parse({})),
    log: logSchema.default(logSchema.parse({})),
    admin: adminSchema.optional().describe("Plain-HTTP admin listener for the orchestrator: /healthz and /readyz."),
    directory: directorySchema.optional().describe("The OFB participant Directory: sync, store and per-route checks. Absent: no Directory checks."),
    headerProfiles: z
      .strictObject({
        files: z.array(z.string().min(1)).default([]).describe("The operator's profile files (JSON, schema/profile.schema.json), in addition to the built-ins in profiles/."),
      })
      .optional(),
    redis: redisSchema
      .optional()
      .describe(
        "How every user of Redis (Directory store, CRL store, deny list, idempotency store, traffic limits) reaches it: one Redis (standalone), a primary/replica set managed by Sentinel, or a Redis Cluster. Absent: each user's own url (or REDIS_URL), one standalone Redis.",
      ),
    revocation: revocationSchema
      .default(revocationSchema.parse({}))
      .describe("Revocation of every certificate below the trust anchor (docs/architecture.md, decision D4): by CRL, on by default, soft-fail with a 6 h grace; OCSP first where the AC offers it when revocation.ocsp.enabled."),
    denyList: z
      .strictObject({
        url: userUrlSchema,
        keyPrefix: keyPrefixSchema,
        connectTimeoutMs: duration(5_000).describe("How long start-up (and each `ofb-edge deny` command) waits for Redis before giving up."),
      })
      .optional()
      .describe("The instant deny list (ofb-edge deny add|remove|list), shared by every replica through Redis and applied to every request, on open connections too."),
    idempotency: idempotencySchema.optional(),
    limits: limitsSchema.optional(),
    identityAssertion: identityAssertionSchema
      .optional()
      .describe("A short-lived JWS signed by the edge with the verified identity, sent to the backend in its own header (origin protection); the public JWKS is served on the admin listener at /.well-known/jwks.json."),
    authorizationServer: authorizationServerSchema
      .optional()
      .describe("The authorization server whose access tokens the edge verifies and checks for certificate binding (RFC 8705). Absent: no token checks."),
    messageSigning: messageSigningSchema
      .optional()
      .describe("Signed payment messages: how requests' JWS are verified (the calling organisation's keys from the Directory keystore, a jti replay store) and responses signed (the bank's key). Each route's messageSigning says whether it applies. Needs `directory` with a keystoreUrl."),
    drainTimeoutMs: z
      .number()
      .int()
      .min(0)
      .max(600_000)
      .default(25_000)
      .describe("How long shutdown may take, drainDelayMs included: on SIGTERM/SIGINT, requests in flight have until then to finish; then every connection is closed and the process exits. Keep it below the orchestrator's grace period (Kubernetes: terminationGracePeriodSeconds, 30 s by default, after any preStop hook)."),
    drainDelayMs: z
      .number()
      .int()
      .min(0)
      .max(600_000)
      .default(5_000)
      .describe(
        "On SIGTERM, how long /readyz answers 503 while the listeners keep accepting and serving (each response closing its connection, so keep-alive clients reconnect through their load balancer) before the drain begins; part of drainTimeoutMs, and less than it. " +
          "Default 5 s: a deleted Kubernetes pod leaves its Service's EndpointSlices at once, but kube-proxy on every node, ingress controllers and cloud load balancers apply that over the next seconds, and connections they send meanwhile must still be served. " +
          "Behind a load balancer that health-checks /readyz, raise it to its interval times its unhealthy threshold. SIGINT (Ctrl-C) skips it.",
      ),
    workers: z
      .union([z.literal("auto"), z.number().int().min(1).max(256)])
      .default("auto")
      .describe("Worker processes sharing the listeners (node:cluster); auto = one per CPU core."),
  })
  .superRefine((cfg, ctx) => {
    const unique = (values: string[], path: string) => {
      const seen = new Set<string>();
      values.forEach((v, i) => {
        if (seen.has(v)) ctx.addIssue({ code: "custom", path: [path, i], message: `duplicate ${path.slice(0, -1)} '${v}'` });
        seen.add(v);
      });
    };
    unique(cfg.listeners.map((l) => l.name), "listeners");
    unique(cfg.routes.map((r) => r.name), "routes");
    const routeNames = new Set(cfg.routes.map((r) => r.name));
    cfg.listeners.forEach((l, i) =>
      (terminatesTls(l) ? l.routes : undefined)?.forEach((r, j) => {
        if (!routeNames.has(r)) ctx.addIssue({ code: "custom", path: ["listeners", i, "routes", j], message: `no route named '${r}'` });
      }),
    );
    cfg.routes.forEach((r, i) => {
      if (r.participant === "check" && !cfg.directory) ctx.addIssue({ code: "custom", path: ["routes", i, "participant"], message: "'check' needs a `directory` section" });
      if (r.binding !== undefined && r.binding !== "off" && !cfg.authorizationServer)
        ctx.addIssue({ code: "custom", path: ["routes", i, "binding"], message: `'${r.binding}' needs an \`authorizationServer\` section` });
      if (r.scopes && (r.binding === "off" || (r.binding === undefined && (!cfg.authorizationServer || r.mtls !== "required"))))
        ctx.addIssue({ code: "custom", path: ["routes", i, "scopes"], message: "scopes are checked only with binding enforce or report" });
      if (r.idempotency === "enforce" && !cfg.idempotency) ctx.addIssue({ code: "custom", path: ["routes", i, "idempotency"], message: "'enforce' needs an `idempotency` section (its store)" });
      // Keys are kept per organisation: without a verified certificate two callers would share (and read) each other's.
      if (r.idempotency === "enforce" && r.mtls !== "required") ctx.addIssue({ code: "custom", path: ["routes", i, "idempotency"], message: "'enforce' needs mtls required: keys are kept per calling organisation" });
      if (r.limits === "enforce" && !cfg.limits) ctx.addIssue({ code: "custom", path: ["routes", i, "limits"], message: "'enforce' needs a `limits` section (its store)" });
      if (r.globalPerSecond !== undefined && (!cfg.limits || r.limits === "off"))
        ctx.addIssue({ code: "custom", path: ["routes", i, "globalPerSecond"], message: cfg.limits ? "set, but this route's limits are off" : "needs a `limits` section (its store)" });
    });
    messageSigningIssues(cfg, (path, message) => ctx.addIssue({ code: "custom", path, message }));
    for (const issue of redisConfigIssues(cfg.redis, redisUsers(cfg))) ctx.addIssue({ code: "custom", path: [...issue.path], message: issue.message });
    cfg.listeners.filter(terminatesTls).forEach((l) => {
      const i = cfg.listeners.indexOf(l);
      if (l.mode === "trusted-proxy" && !l.trustedProxy) ctx.addIssue({ code: "custom", path: ["listeners", i, "trustedProxy"], message: "required with mode trusted-proxy" });
      if (l.mode !== "trusted-proxy" && l.trustedProxy) ctx.addIssue({ code: "custom", path: ["listeners", i, "trustedProxy"], message: "only with mode trusted-proxy" });
      if (l.trustedProxy && l.trustedProxy.sources.length === 0 && !l.trustedProxy.clientTrustAnchors)
        ctx.addIssue({ code: "custom", path: ["listeners", i, "trustedProxy"], message: "name the terminator: sources, clientTrustAnchors or both" });
    });
    const idem = cfg.idempotency;
    // A claim must outlive the longest exchange it covers, or a retry could be forwarded while the first is in flight.
    const exchangeMs = cfg.proxy.connectTimeoutMs + cfg.proxy.headersTimeoutMs + cfg.proxy.bodyTimeoutMs;
    if (idem && idem.claimTtlMs <= exchangeMs)
      ctx.addIssue({ code: "custom", path: ["idempotency", "claimTtlMs"], message: `must exceed the longest exchange with a backend, proxy connect + headers + body time-outs (${exchangeMs} ms)` });
    if (idem?.store.type === "redis" && idem.store.replicaAcks !== "auto" && idem.store.replicaAcks > 0 && cfg.redis?.mode !== "sentinel" && cfg.redis?.mode !== "cluster")
      ctx.addIssue({ code: "custom", path: ["idempotency", "store", "replicaAcks"], message: "a standalone Redis has no replicas to wait for: use redis.mode sentinel or cluster, or 0" });
    // The delay is spent inside the drain time-out: a delay as long as the time-out would leave no time to drain.
    if (cfg.drainDelayMs > 0 && cfg.drainDelayMs >= cfg.drainTimeoutMs)
      ctx.addIssue({ code: "custom", path: ["drainDelayMs"], message: `must be less than drainTimeoutMs (${cfg.drainTimeoutMs}): the delay is part of the drain time-out` });
    const ports = new Map<string, number>();
    cfg.listeners.forEach((l, i) => {
      const key = `${l.host}:${l.port}`;
      if (l.port !== 0 && ports.has(key)) ctx.addIssue({ code: "custom", path: ["listeners", i, "port"], message: `${key} already used by listener ${ports.get(key)}` });
      ports.set(key, i);
    });
  });

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
export type ListenerConfig = Config["listeners"][number];
export type TlsListenerConfig = Exclude<ListenerConfig, { mode: "passthrough" }>;
export type PassthroughListenerConfig = Extract<ListenerConfig, { mode: "passthrough" }>;
/** True for listeners that terminate TLS (and so have tls/http/routes). */
export const terminatesTls = (l: ListenerConfig): l is TlsListenerConfig => l.mode !== "passthrough";
export type RouteConfig = Config["routes"][number];
export type PolicyConfig = Config["policy"];
export type ProxyConfig = Config["proxy"];
export type DirectoryConfig = NonNullable<Config["directory"]>;
export type AuthorizationServerConfig = NonNullable<Config["authorizationServer"]>;

/** The sections that use Redis, by JSON path: they reach it through the `redis` section or their own url. */
export function redisUsers(cfg: {
  readonly directory?: { readonly store: { readonly type: "memory" } | ({ readonly type: "redis" } & RedisUserConfig) } | undefined;
  readonly revocation: { readonly store: { readonly type: "memory" } | ({ readonly type: "redis" } & RedisUserConfig) };
  readonly denyList?: RedisUserConfig | undefined;
  readonly idempotency?: { readonly store: { readonly type: "memory" } | ({ readonly type: "redis" } & RedisUserConfig) } | undefined;
  readonly limits?: { readonly store: { readonly type: "memory" } | ({ readonly type: "redis" } & RedisUserConfig) } | undefined;
  readonly messageSigning?: { readonly replayStore: { readonly type: "memory" } | ({ readonly type: "redis" } & RedisUserConfig) } | undefined;
}): { path: string[]; section: RedisUserConfig }[] {
  return [
    ...(cfg.directory?.store.type === "redis" ? [{ path: ["directory", "store"], section: cfg.directory.store }] : []),
    ...(cfg.revocation.store.type === "redis" ? [{ path: ["revocation", "store"], section: cfg.revocation.store }] : []),
    ...(cfg.denyList ? [{ path: ["denyList"], section: cfg.denyList }] : []),
    ...(cfg.idempotency?.store.type === "redis" ? [{ path: ["idempotency", "store"], section: cfg.idempotency.store }] : []),
    ...(cfg.limits?.store.type === "redis" ? [{ path: ["limits", "store"], section: cfg.limits.store }] : []),
    ...(cfg.messageSigning?.replayStore.type === "redis" ? [{ path: ["messageSigning", "replayStore"], section: cfg.messageSigning.replayStore }] : []),
  ];
}

/** What {@link messageSigningIssues} reads of a configuration. */
interface SigningFacts {
  readonly messageSigning?: { readonly signingKey?: object | undefined; readonly organisationId?: string | undefined } | undefined;
  readonly directory?: { readonly keystoreUrl: string } | undefined;
  readonly routes: readonly { readonly name: string; readonly pathPrefix: string; readonly messageSigning?: string | undefined; readonly publicBaseUrl?: string | undefined }[];
  readonly listeners: readonly { readonly mode: string; readonly routes?: readonly string[] | undefined; readonly publicBaseUrl?: string | undefined }[];
}

/**
 * What signed messages need: a `messageSigning` section for a route that asks for them, the Directory keystore (the
 * callers' keys), a signing key and the bank's organisation id to sign responses, and, on every route that may
 * verify, the public URL its `aud` is compared with (the route's or that of every listener serving it).
 */
function messageSigningIssues(cfg: SigningFacts, issue: (path: (string | number)[], message: string) => void): void {
  const section = cfg.messageSigning;
  const tableDefault = section ? (section.signingKey ? "verify-and-sign" : "verify") : null;
  if (section) {
    if (!cfg.directory) issue(["messageSigning"], "needs a `directory` section: the callers' keys are read from its keystore (<org>/application.jwks)");
    else if (!cfg.directory.keystoreUrl) issue(["directory", "keystoreUrl"], "required with messageSigning (or set preset)");
    if (section.signingKey && !section.organisationId) issue(["messageSigning", "organisationId"], "required with signingKey: it is the iss of every signed response");
  }
  cfg.routes.forEach((r, i) => {
    if (r.messageSigning === undefined || r.messageSigning === "off") {
      if (r.messageSigning === undefined && tableDefault !== null && prefixMayServeSignedFamily(r.pathPrefix)) needsBaseUrl(r, i);
      return;
    }
    if (!section) issue(["routes", i, "messageSigning"], `'${r.messageSigning}' needs a \`messageSigning\` section`);
    else if (r.messageSigning === "verify-and-sign" && !section.signingKey) issue(["routes", i, "messageSigning"], "'verify-and-sign' needs messageSigning.signingKey");
    needsBaseUrl(r, i);
  });
  function needsBaseUrl(r: SigningFacts["routes"][number], i: number): void {
    if (r.publicBaseUrl !== undefined) return;
    const serving = cfg.listeners.filter((l) => l.mode !== "passthrough" && (l.routes === undefined || l.routes.includes(r.name)));
    if (serving.length === 0 || serving.some((l) => l.publicBaseUrl === undefined))
      issue(["routes", i, "publicBaseUrl"], "required where signed messages are verified (or set publicBaseUrl on every listener serving this route): a message's aud must be the URL clients call");
  }
}
