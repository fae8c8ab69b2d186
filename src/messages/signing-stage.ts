import type { Context, MiddlewareHandler } from "hono";
import { KeystoreUnavailableError } from "../directory/keystore.js";
import { EdgeError } from "../errors.js";
import type { EdgeEnv } from "../http/context.js";
import { declaresBody, readRequestBody } from "../http/request-body.js";
import type { Logger } from "../log/logger.js";
import type { MessageMetrics } from "./signing-metrics.js";
import type { ReplayStore } from "./replay-store.js";
import { APPLICATION_JWT, mediaType } from "./signing-response.js";
import type { SigningMode } from "./signing-routes.js";
import type { MessageVerifier } from "./signing-verify.js";

export interface MessageSigningStageOptions {
  readonly verifier: MessageVerifier;
  readonly replay: ReplayStore;
  /** How long a `jti` is remembered (`messageSigning.jtiTtlSeconds`, in ms). */
  readonly jtiTtlMs: number;
  /** The proxy's body limit: a signed message is read whole before anything is forwarded. */
  readonly maxBodyBytes: number;
  readonly now: () => number;
  readonly metrics: MessageMetrics;
  readonly logger: Logger;
}

/** Methods whose requests carry a message: without a body they are refused (a missing signature). */
const WITH_BODY: ReadonlySet<string> = new Set(["POST", "PUT", "PATCH"]);

/** The path of the request, without its query. */
function pathOf(c: Context<EdgeEnv>): string {
  const url = c.env.incoming.url ?? "/";
  const q = url.indexOf("?");
  return q < 0 ? url : url.slice(0, q);
}

/** The signing mode of this request's route and path (off without a route). */
export function signingModeOf(c: Context<EdgeEnv>): SigningMode {
  return c.get("route")?.messageSigning.mode(pathOf(c)) ?? "off";
}

/**
 * Stage: signed request messages (OFB security profile, "Message Content Signing Considerations (JWS)"), after the
 * token (payments 4.0.0 lists certificate and token checks before the signature's) and before the idempotency checks
 * (a request whose signature fails is not an attempt at the operation). On routes whose mode is verify or
 * verify-and-sign, a request with a body must carry a JWS (`Content-Type: application/jwt`) of the organisation
 * its certificate names, verified against that organisation's active application key in the Directory; its claims
 * `iss`, `aud` (the route's public URL and the request path), `iat` and `jti` are checked, and the `jti` marked used
 * for `jtiTtlMs` across every replica. The body is then forwarded byte for byte. A request without a body (GET) has
 * nothing to verify and passes; its response is still signed in verify-and-sign.
 */
export function messageSigningStage(o: MessageSigningStageOptions): MiddlewareHandler<EdgeEnv> {
  if (!Number.isSafeInteger(o.jtiTtlMs) || o.jtiTtlMs <= 0) throw new TypeError(`message signing: jtiTtlMs must be a positive integer, got ${o.jtiTtlMs}`);
  return async function messageSigning(c, next) {
    const route = c.get("route")!;
    const path = pathOf(c);
    const mode = route.messageSigning.mode(path);
    if (mode === "off") return next();
    const name = route.config.name;
    const client = c.get("client");
    // A message's issuer is checked against the certificate's organisation, and a signed response is addressed to
    // it: without one there is nothing to check it against, or to address the response to.
    const noClient = () => new EdgeError("CERT_REQUIRED", "messages", "signed messages are verified against, and responses addressed to, the client certificate's organisation; present the certificate");
    if (!client && mode === "verify-and-sign") throw noClient();
    const refuse = (code: ConstructorParameters<typeof EdgeError>[0], detail: string): never => {
      o.metrics.refused(name, code);
      throw new EdgeError(code, "messages", detail);
    };
    const incoming = c.env.incoming;
    if (!declaresBody(incoming)) {
      if (WITH_BODY.has(incoming.method ?? "")) refuse("MESSAGE_SIGNATURE_MISSING", `a ${incoming.method} on this route must carry a signed message (a JWS, Content-Type ${APPLICATION_JWT}); the request has no body`);
      return next();
    }
    if (!client) throw noClient();
    const type = mediaType(incoming.headers["content-type"]);
    if (type !== APPLICATION_JWT) refuse("MESSAGE_SIGNATURE_MISSING", `the body must be a signed message (Content-Type ${APPLICATION_JWT}), not ${type === "" ? "untyped" : type.slice(0, 60)}`);
    const body = c.get("requestBody") ?? (await readRequestBody(incoming, o.maxBodyBytes));
    // Forwarded as received: the backend sees the bytes the participant signed.
    c.set("requestBody", body);
    const organisationId = client.identity.organisationId;
    const base = route.messageSigning.publicBaseUrl;
    if (base === null) throw new EdgeError("INTERNAL_ERROR", "messages", `route '${name}' verifies signed messages but has no publicBaseUrl`);
    let verdict;
    try {
      verdict = await o.verifier.verify(body.toString("latin1").trim(), organisationId, `${base}${path}`, o.now());
    } catch (err) {
      if (!(err instanceof KeystoreUnavailableError)) throw err;
      o.logger.warn({ kind: "messages", route: name, detail: err.message }, "keystore unavailable: signed message not verified");
      throw new EdgeError("DIRECTORY_KEYSTORE_UNAVAILABLE", "messages", "the organisation's signing keys cannot be read from the Directory keystore now", { cause: err });
    }
    if (!verdict.ok) refuse(verdict.code, verdict.detail);
    const { message } = verdict as Extract<typeof verdict, { ok: true }>;
    let first: boolean;
    try {
      first = await o.replay.firstUse(`${organisationId.toLowerCase()}:${message.jti.toLowerCase()}`, o.jtiTtlMs);
    } catch (err) {
      o.logger.warn({ kind: "messages", route: name, detail: (err as Error).message }, "jti replay store unavailable: signed message refused");
      throw new EdgeError("MESSAGE_REPLAY_STORE_UNAVAILABLE", "messages", "whether this jti was used before cannot be checked now", { cause: err });
    }
    if (!first) {
      o.metrics.replayed(name);
      refuse("MESSAGE_JTI_REPLAYED", `jti ${message.jti} was already used by organisation ${organisationId} within the last ${Math.round(o.jtiTtlMs / 1000)} s`);
    }
    o.metrics.verified(name);
    c.set("message", message);
    await next();
  };
}
