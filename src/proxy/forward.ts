import type { IncomingMessage, ServerResponse } from "node:http";
import { Transform, pipeline as pipelineCb } from "node:stream";
import type { Dispatcher } from "undici";
import { EdgeError } from "../errors.js";
import { INTERACTION_ID } from "../http/interaction-id.js";
import { HOP_BY_HOP, connectionTokens } from "./sanitize.js";
import type { Upstream } from "./upstream.js";

/** Other proxies' claims about the client address: spoofable, so discarded when the edge is the trust boundary. */
const CLIENT_ADDRESS_CLAIMS: ReadonlySet<string> = new Set(["x-real-ip", "true-client-ip", "x-client-ip", "cf-connecting-ip", "fastly-client-ip"]);

/** Request fields the edge sets itself (or that must not reach undici), never copied from the client. */
const SET_BY_EDGE: ReadonlySet<string> = new Set([
  "host",
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
  "forwarded",
  "expect",
  INTERACTION_ID,
]);

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
  /** The body, when an earlier stage had to read it whole (it is sent instead of the stream). */
  readonly body?: Buffer | undefined;
  readonly xForwardedFor: "replace" | "append";
}

/**
 * Streams one request to its upstream and the response back (DESIGN §7), through undici's dispatch API: the
 * response is written to the client as undici delivers it, with backpressure (pause/resume), and no Readable,
 * pipeline or AbortSignal per request. Errors before the response has started are thrown as `EdgeError` (the
 * app answers them in the OFB format); after it has started, the client connection is destroyed, since the
 * status line is already gone. Resolves with the status sent once the response is complete.
 */
export function forward(req: ForwardRequest): Promise<number> {
  const { incoming, outgoing } = req;
  const declared = incoming.headers["content-length"];
  const chunked = incoming.headers["transfer-encoding"] !== undefined;
  if (declared !== undefined && Number(declared) > req.maxBodyBytes) {
    throw new EdgeError("REQUEST_TOO_LARGE", "proxy", `request body of ${declared} bytes exceeds the limit of ${req.maxBodyBytes}`);
  }
  const hasBody = chunked || (declared !== undefined && declared !== "0");
  const body = req.body !== undefined ? req.body : !hasBody ? null : chunked ? limitBody(incoming, req.maxBodyBytes) : incoming;

  return new Promise<number>((resolve, reject) => {
    let controller: Dispatcher.DispatchController | undefined;
    let status = 0;
    const onClose = () => {
      // The client went away before the response was complete: stop the upstream exchange too.
      if (!outgoing.writableFinished) controller?.abort(new EdgeError("CLIENT_CLOSED_REQUEST", "proxy", "the client closed the connection"));
    };
    const onDrain = () => controller?.resume();
    const done = () => {
      outgoing.off("close", onClose);
      outgoing.off("drain", onDrain);
    };
    outgoing.once("close", onClose);
    outgoing.on("drain", onDrain);

    req.upstream.pool.dispatch(
      {
        path: req.upstream.basePath + (incoming.url ?? "/"),
        method: incoming.method as Dispatcher.HttpMethod,
        headers: requestHeaders(req),
        body,
      },
      {
        onRequestStart(c) {
          controller = c;
          if (outgoing.destroyed) onClose();
        },
        onResponseStart(c, statusCode, headers) {
          // 1xx interim responses are not relayed: the final response follows.
          if (statusCode < 200) return;
          status = statusCode;
          outgoing.writeHead(statusCode, responseHeaders(headers, req.interactionId, req.strip));
          if (outgoing.writableNeedDrain) c.pause();
        },
        onResponseData(c, chunk) {
          if (!outgoing.write(chunk)) c.pause();
        },
        onResponseEnd() {
          done();
          outgoing.end();
          resolve(status);
        },
        onResponseError(_c, cause) {
          done();
          if (status === 0) {
            reject(upstreamError(cause, incoming, req.route));
            return;
          }
          // Upstream body failed or timed out mid-response, or the client went away: the status line is
          // sent, so the only honest signal left is closing the connection.
          outgoing.destroy();
          resolve(status);
        },
      },
    );
  });
}

function requestHeaders(req: ForwardRequest): string[] {
  const raw = req.incoming.rawHeaders;
  const listed = connectionTokens(req.incoming.headers.connection);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || SET_BY_EDGE.has(lower) || listed?.has(lower) || req.strip(lower)) continue;
    if (req.xForwardedFor === "replace" && CLIENT_ADDRESS_CLAIMS.has(lower)) continue;
    out.push(name, raw[i + 1]!);
  }
  const peer = req.incoming.socket.remoteAddress ?? "";
  const prior = req.incoming.headers["x-forwarded-for"];
  out.push("x-forwarded-for", req.xForwardedFor === "append" && prior ? `${prior}, ${peer}` : peer);
  out.push("x-forwarded-proto", "https");
  const host = req.incoming.headers.host;
  if (host) out.push("x-forwarded-host", host);
  out.push(INTERACTION_ID, req.interactionId);
  for (const v of req.identityHeaders) out.push(v);
  return out;
}

function responseHeaders(headers: Record<string, string | string[] | undefined>, interactionId: string, strip: (lowerName: string) => boolean): string[] {
  const connection = headers.connection;
  const listed = connectionTokens(Array.isArray(connection) ? connection.join(",") : connection);
  const out: string[] = [];
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || listed?.has(name) || strip(name) || name === INTERACTION_ID) continue;
    const value = name === "vary" ? varyForClient(headers[name]) : headers[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else out.push(name, value);
  }
  // FAPI 1 Part 1 §6.2.1: the response carries the request's interaction id.
  out.push(INTERACTION_ID, interactionId);
  return out;
}

/**
 * RFC 9440 §2.4: a response selected by `Client-Cert` must not be cached for another client; the TTRP that
 * sets the field "SHOULD" turn `Vary: Client-Cert` (or `Client-Cert-Chain`) into `Vary: *`.
 */
function varyForClient(value: string | string[] | undefined): string | string[] | undefined {
  if (value === undefined) return value;
  const joined = Array.isArray(value) ? value.join(",") : value;
  return /(^|,)\s*client-cert(-chain)?\s*(,|$)/i.test(joined) ? "*" : value;
}

/** Counts a body of unknown length on its way through and fails it once it exceeds `max` bytes. */
function limitBody(stream: IncomingMessage, max: number): Transform {
  let total = 0;
  const limiter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      total += chunk.length;
      if (total > max) callback(new EdgeError("REQUEST_TOO_LARGE", "proxy", `request body exceeds the limit of ${max} bytes`));
      else callback(null, chunk);
    },
  });
  pipelineCb(stream, limiter, () => {});
  return limiter;
}

function upstreamError(cause: unknown, incoming: IncomingMessage, route: string): EdgeError {
  if (cause instanceof EdgeError) return cause;
  const code = (cause as { code?: string }).code ?? "";
  if (incoming.destroyed || code === "UND_ERR_ABORTED" || code === "UND_ERR_REQ_CONTENT_LENGTH_MISMATCH") {
    return new EdgeError("CLIENT_CLOSED_REQUEST", "proxy", "the client closed the connection before the request completed", { cause });
  }
  if (code === "UND_ERR_CONNECT_TIMEOUT" || code === "UND_ERR_HEADERS_TIMEOUT") {
    return new EdgeError("UPSTREAM_TIMEOUT", "proxy", `the upstream of route '${route}' did not answer in time (${code})`, { cause });
  }
  return new EdgeError("UPSTREAM_UNAVAILABLE", "proxy", `the upstream of route '${route}' failed (${code || "error"})`, { cause });
}
