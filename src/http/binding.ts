import type { MiddlewareHandler } from "hono";
import { bearerChallenge, formHasAccessToken, isFormEncoded, queryHasAccessToken, readAuthorization } from "../binding/bearer.js";
import { checkBinding } from "../binding/cnf.js";
import type { TokenVerifier } from "../binding/verifier.js";
import { EdgeError, type EdgeErrorCode } from "../errors.js";
import type { Logger } from "../log/logger.js";
import type { EdgeMetrics } from "../metrics/registry.js";
import { connectionOf } from "../tls/peer.js";
import type { EdgeEnv } from "./context.js";
import { readRequestBody } from "./request-body.js";

export interface TokenBindingOptions {
  readonly verifier: TokenVerifier | null;
  readonly realm: string | undefined;
  readonly maxTokenLength: number;
  readonly maxBodyBytes: number;
  readonly logger: Logger;
  readonly metrics: EdgeMetrics;
}

/**
 * Stage: the bearer access token and its certificate binding (DESIGN §5, RFC 6750, RFC 8705 §3). On routes with
 * binding `enforce` or `report`: the token comes only in the `Authorization` header (a query or form-body token
 * is a 400 and is never forwarded, FAPI 1 Part 1 §6.2.1); it must verify; its `cnf.x5t#S256` must be the
 * connection's certificate (in `report` mode a missing or wrong binding is logged and counted, and forwarded);
 * the route's scopes must all be granted. The token itself is forwarded unchanged.
 */
export function tokenBinding(options: TokenBindingOptions): MiddlewareHandler<EdgeEnv> {
  const challenge = (code: EdgeErrorCode, detail: string, scope?: readonly string[]) =>
    new EdgeError(code, "binding", detail, { headers: { "www-authenticate": bearerChallenge({ realm: options.realm, code, detail, ...(scope ? { scope } : {}) }) } });

  return async function tokenBinding(c, next) {
    const route = c.get("route")!;
    const { mode, scopes } = route.binding;
    if (mode === "off" || options.verifier === null) {
      await next();
      return;
    }
    const incoming = c.env.incoming;
    const inQuery = queryHasAccessToken(incoming.url ?? "/");
    const authorization = readChallenged(incoming, options.maxTokenLength, challenge);
    if (isFormEncoded(incoming)) {
      const body = await readRequestBody(incoming, options.maxBodyBytes);
      if (formHasAccessToken(body)) throw challenge("TOKEN_REQUEST_INVALID", "access_token in the request body is not accepted; use the Authorization header (RFC 6750 §2.1)");
      c.set("requestBody", body);
    }
    if (inQuery) {
      const detail = authorization.kind === "bearer" ? "more than one method of presenting the access token (RFC 6750 §3.1)" : "access_token in the query string is not accepted; use the Authorization header (FAPI 1 Part 1 §6.2.1)";
      throw challenge("TOKEN_REQUEST_INVALID", detail);
    }
    // RFC 6750 §3: without bearer credentials the challenge carries no error code; another scheme (Basic, DPoP)
    // is not a bearer token.
    if (authorization.kind === "none") throw challenge("TOKEN_MISSING", "this route requires a bearer access token in the Authorization header");
    if (authorization.kind === "other") throw challenge("TOKEN_MISSING", `the Authorization scheme ${authorization.scheme} is not Bearer`);
    const outcome = await options.verifier.verify(authorization.token, connectionOf(incoming.socket));
    if (!outcome.ok) {
      if (outcome.code === "AUTHORIZATION_SERVER_UNAVAILABLE") {
        options.logger.warn({ kind: "binding", code: outcome.code, detail: outcome.detail }, "authorization server unavailable");
        throw new EdgeError(outcome.code, "binding", "the access token cannot be verified now", { headers: { "retry-after": "5" } });
      }
      throw challenge(outcome.code, outcome.detail);
    }
    const { token } = outcome;
    const client = c.get("client");
    const binding = checkBinding(token.confirmation, client?.thumbprint ?? null);
    if (!binding.ok) {
      if (mode === "enforce") throw challenge(binding.code, binding.detail);
      options.metrics.bindingReports.inc({ route: route.config.name, code: binding.code });
      c.set("bindingReport", binding.code);
      options.logger.warn({ kind: "binding", route: route.config.name, code: binding.code, detail: binding.detail, clientId: token.clientId, interactionId: c.get("interactionId") }, "token binding not satisfied (report mode: forwarded)");
    }
    if (scopes.length > 0) {
      const missing = scopes.filter((s) => !token.scopes.includes(s));
      if (missing.length > 0) throw challenge("TOKEN_SCOPE_INSUFFICIENT", `the token lacks scope ${missing.join(" ")}`, scopes);
    }
    c.set("token", token);
    await next();
  };
}

/** {@link readAuthorization} whose refusals (two fields, `Bearer` without a token, a malformed or over-long token) carry the challenge too (RFC 6750 §3). */
function readChallenged(incoming: Parameters<typeof readAuthorization>[0], maxTokenLength: number, challenge: (code: EdgeErrorCode, detail: string) => EdgeError) {
  try {
    return readAuthorization(incoming, maxTokenLength);
  } catch (err) {
    throw err instanceof EdgeError ? challenge(err.code, err.message) : err;
  }
}
