import type { IncomingMessage, ServerResponse } from "node:http";
import { Http2ServerResponse, type ServerHttp2Stream } from "node:http2";
import { Transform, pipeline as pipelineCb } from "node:stream";
import type { Dispatcher } from "undici";
import { EdgeError, type EdgeErrorCode } from "../errors.js";
import { requestHeaders, responseHeaders, upstreamHeadBytes } from "./fields.js";
import type { Upstream } from "./upstream.js";

export interface ForwardRequest {
  readonly incoming: IncomingMessage;
  readonly outgoing: ServerResponse;
  readonly upstream: Upstream;
  /** Route name, used in error details instead of the upstream's address (not for clients' eyes). */
  readonly route: string;
  readonly interactionId: string;
  /** Identity fields for the backend, as a flat [name, value, …] list (set after sanitizing). */
  readonly identityHeaders: readonly string[];
  /** Fields never copied from the client nor to it (lower-case name): client-certificate and identity fields. */
  readonly strip: (lowerName: string) => boolean;
  readonly maxBodyBytes: number;
  /** The request head the backend accepts, identity fields included (`proxy.maxUpstreamHeaderBytes`). */
  readonly maxHeaderBytes: number;
  /** The body, when an earlier stage had to read it whole (it is sent instead of the stream). */
  readonly body?: Buffer | undefined;
  readonly xForwardedFor: "replace" | "append";
  /** Filled in as the exchange goes, for the access line; read it whether `forward` resolves or rejects. */
  readonly meter?: ExchangeMeter;
  /** Sees the response exactly as it is sent to the client (an idempotent request's first response, to be stored). */
  readonly capture?: ResponseCapture | undefined;
  /**
   * Rewrites the response before anything of it is sent (a signed response): the body is read whole, at most
   * `maxBytes` (more is refused with `tooLarge`, and the exchange aborted), and `apply` says what to send instead,
   * or null to send the backend's response as it came. The backend is asked for an unencoded body.
   */
  readonly rewrite?: ResponseRewrite;
}

/**
 * What a stage that keeps the response is told, in order: the status and header fields sent (`head`), each body
 * chunk sent (`data`), and `end` once the response is complete — never when the exchange failed or was cut off.
 * A rewritten response is seen as rewritten (a signed response is stored signed, and replayed byte for byte).
 */
export interface ResponseCapture {
  head(status: number, headers: readonly string[]): void;
  data(chunk: Buffer): void;
  end(): void;
}

/** See {@link ForwardRequest.rewrite}. */
export interface ResponseRewrite {
  readonly maxBytes: number;
  tooLarge(bytes: number): EdgeError;
  apply(response: { readonly status: number; readonly headers: Record<string, string | string[] | undefined>; readonly body: Buffer }): Promise<{ readonly headers: Record<string, string | string[] | undefined>; readonly body: Buffer } | null>;
}

/** What one exchange took and moved, for the access line. */
export interface ExchangeMeter {
  /**
   * Milliseconds from handing the request to the upstream pool to the end of the backend's response (its last byte
   * relayed) or its failure; undefined while the request has not been sent or the exchange has not ended.
   */
  upstreamMs: number | undefined;
  /** Response body bytes written to the client (a relayed backend refusal included). */
  responseBytes: number;
  /** Request body bytes read from a chunked request (a request with a Content-Length is not counted: it says). */
  chunkedRequestBytes: number;
}

/** A meter at zero. */
export function createExchangeMeter(): ExchangeMeter {
  return { upstreamMs: undefined, responseBytes: 0, chunkedRequestBytes: 0 };
}

/**
 * How a forwarded request ended: the status sent to the client (with `failed` when the backend broke off its response
 * after the status line had gone), or the backend's refusal the edge answers instead.
 */
export type ForwardOutcome =
  | { readonly status: number; readonly refused?: undefined; readonly failed?: EdgeError }
  | { readonly refused: EdgeError; readonly upstreamStatus: number };

/**
 * Streams one request to its upstream and the response back (docs/architecture.md §Proxy), through undici's dispatch
 * API: the response is written to the client as undici delivers it, with backpressure (pause/resume), and no
 * Readable, pipeline or AbortSignal per request. Errors before the response has started are thrown as `EdgeError`
 * (the app answers them in the OFB format); after it has started, the client connection is destroyed, since the
 * status line is already gone. Resolves with the status sent once the response is complete.
 *
 * A request whose head, with the identity fields the edge adds, exceeds `maxHeaderBytes` is refused before the
 * backend (431). A backend's 400, 413 or 431 whose body is not an OFB `ResponseError` (a framework's or server's
 * own refusal, e.g. of header size) is not relayed as is: the outcome names it, for the app to answer in the OFB
 * format.
 */
export function forward(req: ForwardRequest): Promise<ForwardOutcome> {
  const { incoming, outgoing } = req;
  const declared = incoming.headers["content-length"];
  // HTTP/2 has no chunked coding: a body without Content-Length is one whose END_STREAM did not come with the header
  // block (RFC 9113 §8.1); it reaches the backend chunked, as from an HTTP/1.1 client.
  const h2 = h2Stream(outgoing);
  const chunked = incoming.headers["transfer-encoding"] !== undefined || (h2 !== undefined && declared === undefined && !h2.endAfterHeaders);
  if (declared !== undefined && Number(declared) > req.maxBodyBytes) {
    throw new EdgeError("REQUEST_TOO_LARGE", "proxy", `request body of ${declared} bytes exceeds the limit of ${req.maxBodyBytes}`);
  }
  const hasBody = chunked || (declared !== undefined && declared !== "0");
  const path = req.upstream.basePath + (incoming.url ?? "/");
  const headers = requestHeaders(req);
  const headBytes = upstreamHeadBytes(incoming.method ?? "GET", path, headers, req.upstream.host);
  if (headBytes > req.maxHeaderBytes) {
    const identity = req.identityHeaders.reduce((n, v) => n + Buffer.byteLength(v) + 2, 0);
    throw new EdgeError(
      "UPSTREAM_HEADERS_TOO_LARGE",
      "proxy",
      `the request head would reach the backend with ${headBytes} bytes (${identity} of them the verified identity the edge adds), over proxy.maxUpstreamHeaderBytes (${req.maxHeaderBytes})`,
    );
  }
  // An HTTP/2 client can reset a stream at any time, cheaply and many times a second (CVE-2023-44487, "Rapid Reset"):
  // a request whose stream is gone by now never reaches the backend.
  if (h2 && (h2.closed || h2.destroyed)) throw new EdgeError("CLIENT_CLOSED_REQUEST", "proxy", "the client reset the stream before the request was forwarded");
  const body = req.body !== undefined ? req.body : !hasBody ? null : chunked ? limitBody(incoming, req.maxBodyBytes, req.meter) : incoming;
  const { meter, capture } = req;

  return new Promise<ForwardOutcome>((resolve, reject) => {
    let controller: Dispatcher.DispatchController | undefined;
    let status = 0;
    /**
     * A response read whole before anything is sent: a refusal status (to see whether it is an OFB error), or any
     * response to rewrite.
     */
    let held: { readonly headers: Record<string, string | string[] | undefined>; readonly chunks: Buffer[]; bytes: number } | undefined;
    const rewrite = req.rewrite;
    let clientGone = false;
    const onClose = () => {
      clientGone = true;
      // The client went away before the response was complete: stop the upstream exchange too. (Node ends the
      // writable side of an HTTP/2 stream the client resets, so such a response looks finished; it is not.)
      if (h2 !== undefined || !outgoing.writableFinished) controller?.abort(new EdgeError("CLIENT_CLOSED_REQUEST", "proxy", "the client closed the connection"));
    };
    const onDrain = () => controller?.resume();
    const done = () => {
      outgoing.off("close", onClose);
      outgoing.off("drain", onDrain);
    };
    outgoing.once("close", onClose);
    outgoing.on("drain", onDrain);
    const dispatchedAt = performance.now();
    const ended = () => {
      if (meter) meter.upstreamMs = performance.now() - dispatchedAt;
    };

    req.upstream.pool.dispatch(
      {
        path,
        method: incoming.method as Dispatcher.HttpMethod,
        headers,
        body,
      },
      {
        onRequestStart(c) {
          controller = c;
          if (clientGone || outgoing.destroyed) onClose();
        },
        onResponseStart(c, statusCode, headers) {
          // 1xx interim responses are not relayed: the final response follows.
          if (statusCode < 200) return;
          status = statusCode;
          if (REFUSALS[statusCode] !== undefined || rewrite) {
            held = { headers, chunks: [], bytes: 0 };
            return;
          }
          const fields = responseHeaders(headers, req.interactionId, req.strip);
          outgoing.writeHead(statusCode, fields);
          capture?.head(statusCode, fields);
          if (outgoing.writableNeedDrain) c.pause();
        },
        onResponseData(c, chunk) {
          if (held) {
            held.bytes += chunk.length;
            if (rewrite && held.bytes > rewrite.maxBytes) c.abort(rewrite.tooLarge(held.bytes));
            else if (rewrite || held.bytes <= MAX_REFUSAL_BODY_BYTES) held.chunks.push(chunk);
            return;
          }
          if (meter) meter.responseBytes += chunk.length;
          capture?.data(chunk);
          if (!outgoing.write(chunk)) c.pause();
        },
        onResponseEnd() {
          done();
          ended();
          if (held) {
            const whole = held.bytes <= MAX_REFUSAL_BODY_BYTES || rewrite ? Buffer.concat(held.chunks) : null;
            const code = REFUSALS[status];
            if (code !== undefined && !(whole && held.bytes <= MAX_REFUSAL_BODY_BYTES && isOfbErrorBody(held.headers["content-type"], whole))) {
              resolve({ upstreamStatus: status, refused: new EdgeError(code, "proxy", `the backend of route '${req.route}' refused the request with ${status} and no OFB error body`) });
              return;
            }
            const send = (headers: Record<string, string | string[] | undefined>, body: Buffer) => {
              const fields = responseHeaders(headers, req.interactionId, req.strip);
              outgoing.writeHead(status, fields);
              capture?.head(status, fields);
              capture?.data(body);
              capture?.end();
              outgoing.end(body);
              if (meter) meter.responseBytes += body.length;
              resolve({ status });
            };
            const response = { status, headers: held.headers, body: whole! };
            if (!rewrite) send(response.headers, response.body);
            else rewrite.apply(response).then((out) => (outgoing.destroyed ? resolve({ status }) : send(out?.headers ?? response.headers, out?.body ?? response.body)), reject);
            return;
          }
          capture?.end();
          outgoing.end();
          resolve({ status });
        },
        onResponseError(_c, cause) {
          done();
          ended();
          if (status === 0 || held) {
            reject(upstreamError(cause, incoming, outgoing, req.route));
            return;
          }
          // Upstream body failed or timed out mid-response, or the client went away: the status line is
          // sent, so the only honest signal left is closing the connection.
          outgoing.destroy();
          resolve({ status, failed: upstreamError(cause, incoming, outgoing, req.route) });
        },
      },
    );
  });
}

/** Refusals a backend (or its server, framework, WAF) answers in its own format, and the edge's code for each. */
const REFUSALS: Readonly<Record<number, EdgeErrorCode>> = { 400: "UPSTREAM_REFUSED_REQUEST", 413: "UPSTREAM_REFUSED_BODY", 431: "UPSTREAM_REFUSED_HEADERS" };

/** A refusal body larger than this is not an OFB error worth relaying (the OFB limits make one a few KiB at most). */
const MAX_REFUSAL_BODY_BYTES = 64 * 1024;

/** Whether a body is an OFB `ResponseError`: JSON with a non-empty `errors` array of `{code, title, detail}` strings. */
function isOfbErrorBody(contentType: string | string[] | undefined, body: Buffer): boolean {
  if (typeof contentType !== "string" || !/^application\/([a-z.+-]*\+)?json\s*(;|$)/i.test(contentType)) return false;
  try {
    const errors = (JSON.parse(body.toString("utf8")) as { errors?: unknown }).errors;
    return (
      Array.isArray(errors) &&
      errors.length > 0 &&
      errors.every((e: { code?: unknown; title?: unknown; detail?: unknown } | null) => typeof e?.code === "string" && typeof e.title === "string" && typeof e.detail === "string")
    );
  } catch {
    return false;
  }
}

/** The HTTP/2 stream a response goes out on; undefined for an HTTP/1 response. */
function h2Stream(outgoing: ServerResponse): ServerHttp2Stream | undefined {
  return outgoing instanceof Http2ServerResponse ? outgoing.stream : undefined;
}

/** Counts a body of unknown length on its way through and fails it once it exceeds `max` bytes. */
function limitBody(stream: IncomingMessage, max: number, meter: ExchangeMeter | undefined): Transform {
  let total = 0;
  const limiter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      total += chunk.length;
      if (meter) meter.chunkedRequestBytes = total;
      if (total > max) callback(new EdgeError("REQUEST_TOO_LARGE", "proxy", `request body exceeds the limit of ${max} bytes`));
      else callback(null, chunk);
    },
  });
  pipelineCb(stream, limiter, () => {});
  return limiter;
}

function upstreamError(cause: unknown, incoming: IncomingMessage, outgoing: ServerResponse, route: string): EdgeError {
  if (cause instanceof EdgeError) return cause;
  const code = (cause as { code?: string }).code ?? "";
  // A request whose body a stage read whole is destroyed once read (autoDestroy): only an incomplete one, or a
  // response with no connection left, says that the client went away.
  const clientGone = (incoming.destroyed && !incoming.complete) || outgoing.destroyed;
  if (clientGone || code === "UND_ERR_ABORTED" || code === "UND_ERR_REQ_CONTENT_LENGTH_MISMATCH") {
    return new EdgeError("CLIENT_CLOSED_REQUEST", "proxy", "the client closed the connection before the request completed", { cause });
  }
  if (code === "UND_ERR_CONNECT_TIMEOUT" || code === "UND_ERR_HEADERS_TIMEOUT") {
    return new EdgeError("UPSTREAM_TIMEOUT", "proxy", `the upstream of route '${route}' did not answer in time (${code})`, { cause });
  }
  return new EdgeError("UPSTREAM_UNAVAILABLE", "proxy", `the upstream of route '${route}' failed (${code || "error"})`, { cause });
}
