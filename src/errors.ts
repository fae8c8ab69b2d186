/**
 * One error base class and one table of stable reason codes.
 *
 * Every edge rejection carries an {@link EdgeErrorCode}; logs, metrics and the OFB `ResponseError`
 * body key on it, never on message text. The HTTP status for each code lives in {@link STATUS_BY_CODE},
 * written with `satisfies` so that a new code without a status fails to compile.
 */

/** Which pipeline stage produced a rejection (docs/architecture.md §Pipeline). */
export type EdgeStage = "tls" | "pki" | "identity" | "directory" | "binding" | "messages" | "profiles" | "proxy" | "http" | "limits" | "idempotency";

export const STATUS_BY_CODE = {
  // tls/ + pki/: the client certificate (RFC 8705 §3, OFB certificate standard)
  CERT_REQUIRED: 401,
  CERT_UNTRUSTED: 401,
  CERT_CHAIN_INCOMPLETE: 401,
  CERT_SELF_SIGNED: 401,
  CERT_EXPIRED: 401,
  CERT_NOT_YET_VALID: 401,
  CERT_CHAIN_INVALID: 401,
  CERT_INVALID_PURPOSE: 401,
  CERT_EKU_CLIENT_AUTH_MISSING: 401,
  CERT_KEY_USAGE_INVALID: 401,
  CERT_KEY_TOO_WEAK: 401,
  CERT_SIGNATURE_WEAK: 401,
  CERT_ISSUER_NOT_ALLOWED: 401,
  CERT_HIERARCHY_NOT_TRANSPORT: 401,
  CERT_MALFORMED: 401,
  CERT_DENIED: 401,
  CERT_REVOKED: 401,
  CERT_REVOCATION_UNAVAILABLE: 503,
  PARTICIPANT_DENIED: 403,
  // identity/: OFB subject attributes (OFB certificate standard 2.1)
  IDENTITY_SOFTWARE_STATEMENT_MISSING: 401,
  IDENTITY_ORGANISATION_MISSING: 401,
  IDENTITY_ORGANISATION_INVALID: 401,
  IDENTITY_CNPJ_INVALID: 401,
  IDENTITY_OPEN_INSURANCE_NOT_ALLOWED: 401,
  // directory/: the participant in the OFB Directory (docs/architecture.md §Directory)
  DIRECTORY_UNAVAILABLE: 503,
  DIRECTORY_KEYSTORE_UNAVAILABLE: 503,
  DIRECTORY_ORG_UNKNOWN: 403,
  DIRECTORY_ORG_PENDING: 403,
  DIRECTORY_ORG_WITHDRAWN: 403,
  DIRECTORY_ORG_STATUS_UNKNOWN: 403,
  DIRECTORY_ROLE_MISSING: 403,
  DIRECTORY_ROLE_INACTIVE: 403,
  DIRECTORY_KEY_INACTIVE: 403,
  DIRECTORY_KEY_UNREGISTERED: 403,
  // binding/: the access token and its certificate binding (RFC 6750 §3.1, RFC 8705 §3)
  TOKEN_MISSING: 401,
  TOKEN_REQUEST_INVALID: 400,
  TOKEN_MALFORMED: 401,
  TOKEN_ALGORITHM_NOT_ALLOWED: 401,
  TOKEN_KEY_UNKNOWN: 401,
  TOKEN_SIGNATURE_INVALID: 401,
  TOKEN_ISSUER_INVALID: 401,
  TOKEN_AUDIENCE_INVALID: 401,
  TOKEN_CLAIMS_INVALID: 401,
  TOKEN_EXPIRED: 401,
  TOKEN_NOT_YET_VALID: 401,
  TOKEN_INACTIVE: 401,
  TOKEN_UNBOUND: 401,
  TOKEN_BINDING_UNSUPPORTED: 401,
  TOKEN_BINDING_MALFORMED: 401,
  TOKEN_BINDING_MISMATCH: 401,
  TOKEN_SCOPE_INSUFFICIENT: 403,
  AUTHORIZATION_SERVER_UNAVAILABLE: 503,
  // messages/: signed payment messages (OFB security profile, "Message Content Signing Considerations (JWS)";
  // payments 4.0.0 items 1.2.3 and 1.2.4: a bad signature is 400 BAD_SIGNATURE, bad claims or a reused jti 403)
  MESSAGE_SIGNATURE_MISSING: 400,
  MESSAGE_MALFORMED: 400,
  MESSAGE_ALGORITHM_NOT_ALLOWED: 400,
  MESSAGE_KEY_UNKNOWN: 400,
  MESSAGE_KEY_INACTIVE: 400,
  MESSAGE_SIGNATURE_INVALID: 400,
  MESSAGE_ISSUER_INVALID: 403,
  MESSAGE_AUDIENCE_INVALID: 403,
  MESSAGE_IAT_INVALID: 403,
  MESSAGE_JTI_INVALID: 403,
  MESSAGE_JTI_REPLAYED: 403,
  MESSAGE_REPLAY_STORE_UNAVAILABLE: 503,
  MESSAGE_RESPONSE_TOO_LARGE: 502,
  MESSAGE_RESPONSE_UNSIGNABLE: 502,
  // profiles/: what the active header profile would send (docs/architecture.md §Header profiles)
  PROFILE_HEADER_TOO_LARGE: 431,
  PROFILE_VALUE_UNSAFE: 400,
  // http/: FAPI and OFB request rules
  INTERACTION_ID_INVALID: 400,
  ROUTE_NOT_FOUND: 404,
  REQUEST_TOO_LARGE: 413,
  REQUEST_HEADERS_TOO_LARGE: 431,
  REQUEST_PATH_INVALID: 400,
  REQUEST_MALFORMED: 400,
  REQUEST_HOST_INVALID: 400,
  REQUEST_METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  REQUEST_VERSION_UNSUPPORTED: 505,
  CLIENT_CLOSED_REQUEST: 499,
  // limits/: per-participant and global traffic limits (OFB OpenAPI responses 429 TooManyRequests, 529 SiteIsOverloaded)
  RATE_LIMIT_EXCEEDED: 429,
  SITE_OVERLOADED: 529,
  TRAFFIC_LIMITS_UNAVAILABLE: 503,
  // idempotency/: x-idempotency-key (OFB payments OpenAPI; draft-ietf-httpapi-idempotency-key-header-04 §2.7)
  IDEMPOTENCY_KEY_MISSING: 400,
  IDEMPOTENCY_KEY_INVALID: 400,
  ERRO_IDEMPOTENCIA: 422,
  IDEMPOTENCY_IN_PROGRESS: 409,
  IDEMPOTENCY_UNAVAILABLE: 503,
  // proxy/: the bank's backend
  UPSTREAM_HEADERS_TOO_LARGE: 431,
  UPSTREAM_REFUSED_REQUEST: 400,
  UPSTREAM_REFUSED_BODY: 413,
  UPSTREAM_REFUSED_HEADERS: 431,
  UPSTREAM_UNAVAILABLE: 502,
  UPSTREAM_TIMEOUT: 504,
  INTERNAL_ERROR: 500,
} as const satisfies Record<string, number>;

export type EdgeErrorCode = keyof typeof STATUS_BY_CODE;

/** Short, stable titles for the OFB error body (`errors[].title`, ≤255 chars). */
export const TITLE_BY_CODE = {
  CERT_REQUIRED: "Client certificate required",
  CERT_UNTRUSTED: "Client certificate not issued by a trusted CA",
  CERT_CHAIN_INCOMPLETE: "Client certificate chain incomplete",
  CERT_SELF_SIGNED: "Self-signed client certificate",
  CERT_EXPIRED: "Client certificate expired",
  CERT_NOT_YET_VALID: "Client certificate not yet valid",
  CERT_CHAIN_INVALID: "Client certificate chain invalid",
  CERT_INVALID_PURPOSE: "Client certificate chain not valid for client authentication",
  CERT_EKU_CLIENT_AUTH_MISSING: "Client certificate lacks the clientAuth extended key usage",
  CERT_KEY_USAGE_INVALID: "Client certificate key usage invalid",
  CERT_KEY_TOO_WEAK: "Client certificate key too weak",
  CERT_SIGNATURE_WEAK: "Client certificate chain uses a weak signature algorithm",
  CERT_ISSUER_NOT_ALLOWED: "Client certificate issuer not allowed",
  CERT_HIERARCHY_NOT_TRANSPORT: "Client certificate not from the transport certificate hierarchy",
  CERT_MALFORMED: "Client certificate malformed",
  CERT_DENIED: "Client certificate denied by the operator",
  CERT_REVOKED: "Client certificate revoked",
  CERT_REVOCATION_UNAVAILABLE: "Client certificate revocation status unavailable",
  PARTICIPANT_DENIED: "Participant denied by the operator",
  IDENTITY_SOFTWARE_STATEMENT_MISSING: "Client certificate has no software statement id (UID)",
  IDENTITY_ORGANISATION_MISSING: "Client certificate has no organisation id",
  IDENTITY_ORGANISATION_INVALID: "Client certificate organisation id invalid",
  IDENTITY_CNPJ_INVALID: "Client certificate CNPJ invalid",
  IDENTITY_OPEN_INSURANCE_NOT_ALLOWED: "Open Insurance certificate not accepted",
  DIRECTORY_UNAVAILABLE: "Participant directory unavailable",
  DIRECTORY_KEYSTORE_UNAVAILABLE: "Participant keystore unavailable",
  DIRECTORY_ORG_UNKNOWN: "Organisation not in the participant directory",
  DIRECTORY_ORG_PENDING: "Organisation pending in the participant directory",
  DIRECTORY_ORG_WITHDRAWN: "Organisation withdrawn from the participant directory",
  DIRECTORY_ORG_STATUS_UNKNOWN: "Organisation status not recognised",
  DIRECTORY_ROLE_MISSING: "Organisation lacks the regulatory role this API requires",
  DIRECTORY_ROLE_INACTIVE: "Organisation's regulatory role for this API is inactive",
  DIRECTORY_KEY_INACTIVE: "Client certificate is an inactive key in the directory",
  DIRECTORY_KEY_UNREGISTERED: "Client certificate not registered in the directory",
  TOKEN_MISSING: "Bearer access token required",
  TOKEN_REQUEST_INVALID: "Access token presented in a way that is not accepted",
  TOKEN_MALFORMED: "Access token malformed",
  TOKEN_ALGORITHM_NOT_ALLOWED: "Access token signed with an algorithm that is not accepted",
  TOKEN_KEY_UNKNOWN: "Access token signed with an unknown key",
  TOKEN_SIGNATURE_INVALID: "Access token signature invalid",
  TOKEN_ISSUER_INVALID: "Access token issuer not accepted",
  TOKEN_AUDIENCE_INVALID: "Access token audience not accepted",
  TOKEN_CLAIMS_INVALID: "Access token claims invalid",
  TOKEN_EXPIRED: "Access token expired",
  TOKEN_NOT_YET_VALID: "Access token not yet valid",
  TOKEN_INACTIVE: "Access token not active",
  TOKEN_UNBOUND: "Access token not bound to a certificate",
  TOKEN_BINDING_UNSUPPORTED: "Access token bound by an unsupported confirmation method",
  TOKEN_BINDING_MALFORMED: "Access token certificate binding malformed",
  TOKEN_BINDING_MISMATCH: "Access token bound to another certificate",
  TOKEN_SCOPE_INSUFFICIENT: "Access token lacks a required scope",
  AUTHORIZATION_SERVER_UNAVAILABLE: "Authorization server unavailable",
  MESSAGE_SIGNATURE_MISSING: "Request body is not a signed message (a JWS, Content-Type application/jwt)",
  MESSAGE_MALFORMED: "Signed message is not a valid compact JWS",
  MESSAGE_ALGORITHM_NOT_ALLOWED: "Signed message uses a signature algorithm that is not accepted",
  MESSAGE_KEY_UNKNOWN: "Signed message names a key (kid) the organisation does not publish",
  MESSAGE_KEY_INACTIVE: "Signed message was signed with an inactive key of the organisation",
  MESSAGE_SIGNATURE_INVALID: "Signed message signature invalid",
  MESSAGE_ISSUER_INVALID: "Signed message issuer (iss) is not the calling organisation",
  MESSAGE_AUDIENCE_INVALID: "Signed message audience (aud) is not this endpoint",
  MESSAGE_IAT_INVALID: "Signed message issued-at time (iat) missing or outside the accepted window",
  MESSAGE_JTI_INVALID: "Signed message has no valid jti",
  MESSAGE_JTI_REPLAYED: "Signed message jti already used",
  MESSAGE_REPLAY_STORE_UNAVAILABLE: "Signed message replay check unavailable",
  MESSAGE_RESPONSE_TOO_LARGE: "Backend response too large to be signed",
  MESSAGE_RESPONSE_UNSIGNABLE: "Backend response cannot be signed",
  PROFILE_HEADER_TOO_LARGE: "Forwarded certificate header would exceed its size limit",
  PROFILE_VALUE_UNSAFE: "Certificate field cannot be forwarded safely in a header",
  INTERACTION_ID_INVALID: "x-fapi-interaction-id missing or invalid",
  ROUTE_NOT_FOUND: "Not found",
  REQUEST_TOO_LARGE: "Request body too large",
  REQUEST_HEADERS_TOO_LARGE: "Request header fields too large",
  REQUEST_PATH_INVALID: "Request path not accepted",
  REQUEST_MALFORMED: "Malformed HTTP request",
  REQUEST_HOST_INVALID: "Host header field repeated or conflicting",
  REQUEST_METHOD_NOT_ALLOWED: "Request method not allowed",
  REQUEST_TIMEOUT: "Request not received in time",
  REQUEST_VERSION_UNSUPPORTED: "HTTP version not supported",
  CLIENT_CLOSED_REQUEST: "Client closed the request",
  RATE_LIMIT_EXCEEDED: "Too many requests",
  SITE_OVERLOADED: "Site overloaded",
  TRAFFIC_LIMITS_UNAVAILABLE: "Traffic limits unavailable",
  IDEMPOTENCY_KEY_MISSING: "x-idempotency-key missing",
  IDEMPOTENCY_KEY_INVALID: "x-idempotency-key invalid",
  // The OFB payments OpenAPI fixes this code's title (422ResponseErrorCreatePixPayments, EnumErrorsCreatePayment).
  ERRO_IDEMPOTENCIA: "Erro idempotência.",
  IDEMPOTENCY_IN_PROGRESS: "A request with this x-idempotency-key is still being processed",
  IDEMPOTENCY_UNAVAILABLE: "Idempotency store unavailable",
  UPSTREAM_HEADERS_TOO_LARGE: "Request header fields too large for the backend once the edge adds the verified identity",
  UPSTREAM_REFUSED_REQUEST: "Request refused by the backend as malformed",
  UPSTREAM_REFUSED_BODY: "Request body refused by the backend as too large",
  UPSTREAM_REFUSED_HEADERS: "Request header fields refused by the backend as too large",
  UPSTREAM_UNAVAILABLE: "Upstream unavailable",
  UPSTREAM_TIMEOUT: "Upstream timeout",
  INTERNAL_ERROR: "Internal error",
} as const satisfies Record<EdgeErrorCode, string>;

/**
 * The `errors[].code` the OFB API contract prescribes where it is not the edge's own reason code: the payments
 * APIs answer every signature failure with `BAD_SIGNATURE` and every claim failure (`aud`, `iss`, `iat`, `jti`,
 * a reused `jti`) with `INVALID_CLIENT` (payments 4.0.0 items 1.2.3, 1.2.4; automatic-payments 2.0.0 alike). The
 * title names the rule that failed; the edge's own code stays in the logs and the metrics.
 */
export const OFB_CODE_BY_CODE: Readonly<Partial<Record<EdgeErrorCode, string>>> = {
  MESSAGE_SIGNATURE_MISSING: "BAD_SIGNATURE",
  MESSAGE_MALFORMED: "BAD_SIGNATURE",
  MESSAGE_ALGORITHM_NOT_ALLOWED: "BAD_SIGNATURE",
  MESSAGE_KEY_UNKNOWN: "BAD_SIGNATURE",
  MESSAGE_KEY_INACTIVE: "BAD_SIGNATURE",
  MESSAGE_SIGNATURE_INVALID: "BAD_SIGNATURE",
  MESSAGE_ISSUER_INVALID: "INVALID_CLIENT",
  MESSAGE_AUDIENCE_INVALID: "INVALID_CLIENT",
  MESSAGE_IAT_INVALID: "INVALID_CLIENT",
  MESSAGE_JTI_INVALID: "INVALID_CLIENT",
  MESSAGE_JTI_REPLAYED: "INVALID_CLIENT",
};

/**
 * An edge rejection: a stable code, the stage that produced it, and a detail written for operators.
 * The detail goes to the client (OFB `errors[].detail`) and to logs: never put a token, key or PEM in it.
 */
export class EdgeError extends Error {
  override readonly name = "EdgeError";
  readonly code: EdgeErrorCode;
  readonly stage: EdgeStage;
  readonly status: number;
  /** Index in the certificate chain (0 = leaf) when a certificate rule failed. */
  readonly certIndex: number | undefined;
  /** Extra response headers (e.g. `WWW-Authenticate`). */
  readonly headers: Readonly<Record<string, string>> | undefined;

  constructor(
    code: EdgeErrorCode,
    stage: EdgeStage,
    detail: string,
    options: { certIndex?: number; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.stage = stage;
    this.status = STATUS_BY_CODE[code];
    this.certIndex = options.certIndex;
    this.headers = options.headers;
  }
}

/** A configuration or profile problem found at start-up or reload: names the file and the JSON path. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly file: string;
  readonly issues: readonly { path: string; message: string }[];

  constructor(file: string, issues: readonly { path: string; message: string }[]) {
    super(`${file}: ${issues.map((i) => `${i.path || "(root)"}: ${i.message}`).join("; ")}`);
    this.file = file;
    this.issues = issues;
  }
}
