import type { Context, ErrorHandler } from "hono";
import { bearerChallenge } from "../binding/bearer.js";
import { EdgeError } from "../errors.js";
import type { Logger } from "../log/logger.js";
import type { EdgeEnv } from "./context.js";
import { INTERACTION_ID, readInteractionId } from "./interaction-id.js";
import { APPLICATION_JWT } from "../messages/signing-response.js";
import { JSON_UTF8, ofbError } from "./ofb-error.js";

/**
 * Signs the OFB error body of a request whose route signs its responses, for the calling organisation; null when
 * this request's answer is not signed (another route, no known caller).
 */
export type ErrorSigner = (c: Context<EdgeEnv>, body: Readonly<Record<string, unknown>>) => Promise<string | null>;

/** Retry-After on a 503 whose stage did not choose one. */
const RETRY_AFTER_SECONDS = "30";

/**
 * Every edge rejection leaves here: the OFB `ResponseError` body, the status from the one table, the
 * interaction id (echoed, or generated when the request had none), `Cache-Control: no-store`. A 401 always
 * carries a challenge (RFC 9110 §15.5.2): the token stage's own, or for a certificate or identity rejection
 * `Bearer error="invalid_token"` — a token cannot be used with a missing or unacceptable certificate (RFC 8705 §3).
 * A 503 always carries a Retry-After. On a route that signs its responses the body is a signed message
 * (`application/jwt`) whose payload is that `ResponseError`: every response of such an API is signed (payments
 * 4.0.0: "todas as requisições e respostas devem ser assinadas").
 */
export function errorHandler(deps: { logger: Logger; clock: () => Date; realm?: string | undefined; sign?: ErrorSigner | undefined }): ErrorHandler<EdgeEnv> {
  return async function edgeErrorHandler(err, c) {
    let e: EdgeError;
    if (err instanceof EdgeError) e = err;
    else {
      deps.logger.error({ err: { type: err.name, message: err.message, stack: err.stack } }, "unhandled error");
      e = new EdgeError("INTERNAL_ERROR", "http", "internal error", { cause: err });
    }
    c.set("rejection", e);
    const incoming = c.env.incoming;
    const id = c.get("interactionId") ?? readInteractionId(incoming.headers[INTERACTION_ID]).id;
    const headers: Record<string, string> = {
      "content-type": JSON_UTF8,
      "cache-control": "no-store",
      [INTERACTION_ID]: id,
      ...e.headers,
    };
    if (e.status === 401 && headers["www-authenticate"] === undefined) headers["www-authenticate"] = bearerChallenge({ realm: deps.realm, code: e.code, detail: e.message });
    // RFC 9110 §10.2.3: a dependency the edge waits for (Directory, keystore, CRL, authorization server) is a
    // temporary condition; tell clients when to retry rather than let them hammer it.
    if (e.status === 503 && headers["retry-after"] === undefined) headers["retry-after"] = RETRY_AFTER_SECONDS;
    // An unread request body would be drained by Node after the response; a rejected upload is not worth
    // reading (it may be the reason for the rejection), so the connection is closed instead. (HTTP/2 has no
    // Connection field, RFC 9113 §8.2.2: there the stream alone is reset once answered, see tls/http2.ts.)
    if (!incoming.complete && incoming.httpVersionMajor === 1) headers.connection = "close";
    const error = ofbError(e, deps.clock());
    const signed = deps.sign ? await deps.sign(c, error).catch((cause: unknown) => {
      deps.logger.error({ err: { message: (cause as Error).message } }, "an error response could not be signed; sent unsigned");
      return null;
    }) : null;
    if (signed !== null) headers["content-type"] = APPLICATION_JWT;
    const body = signed ?? JSON.stringify(error);
    c.set("responseBytes", Buffer.byteLength(body));
    return c.body(body, e.status as 400, headers);
  };
}
