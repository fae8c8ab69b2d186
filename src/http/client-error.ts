import { randomUUID } from "node:crypto";
import type { Duplex } from "node:stream";
import { EdgeError } from "../errors.js";
import { lingerThenClose, type EarlyRejections } from "./early-rejection.js";
import type { InFlight } from "./in-flight.js";
import { readInteractionId, INTERACTION_ID } from "./interaction-id.js";

export interface ClientErrorOptions {
  /** Whether the connection reached the HTTP layer; any other is a TLS handshake failure (logged by `tlsClientError`). */
  readonly isHttp: (socket: Duplex) => boolean;
  readonly inFlight: InFlight;
  readonly rejections: EarlyRejections;
  readonly maxHeaderBytes: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly lingerMs: number;
}

/**
 * The HTTP server's `clientError` listener: bytes Node's parser refuses, and requests that ran out of time.
 * - A response the backend produced is always delivered first, in order (RFC 9112 §9.3): the error is answered
 *   only once the connection owes no earlier response, and not at all when that response closed the connection
 *   (`Connection: close`, HTTP/1.0: RFC 9112 §9.6, nothing after it is read).
 * - When the failed bytes belong to the request being served (its body, or its time ran out), that request is
 *   answered with the error instead, unless its response has already started.
 * - A connection that fails below HTTP (reset, TLS alert) is closed: nothing can be delivered on it.
 * Each connection is answered once; Node reports a failed parser again for every later chunk.
 */
export function createClientErrorHandler(o: ClientErrorOptions): (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Duplex) => void {
  const handled = new WeakSet<Duplex>();
  return function onClientError(err, socket) {
    if (!o.isHttp(socket)) {
      socket.destroy();
      return;
    }
    if (handled.has(socket)) return;
    handled.add(socket);
    const owed = o.inFlight.owed(socket);
    const e = httpError(err, owed !== undefined && !owed.req.complete, o);
    if (!e) {
      socket.destroy();
      return;
    }
    if (owed && !owed.req.complete) {
      // The latest request can never be complete: once the responses before it are delivered, it is answered with
      // this error (if it was still waiting its turn, it is never served), or, when its own response has started
      // (the backend answered early), that one is finished.
      o.inFlight.withhold(owed.req);
      o.inFlight.whenOwing(socket, 1, () => {
        if (socket.destroyed) return;
        if (!owed.res.headersSent) {
          o.rejections.answerInstead(owed.req, e, readInteractionId(owed.req.headers[INTERACTION_ID]).id);
          return;
        }
        o.inFlight.whenOwing(socket, 0, () => lingerThenClose(socket, o.lingerMs));
      });
      return;
    }
    o.inFlight.whenOwing(socket, 0, () => {
      if (socket.destroyed) return;
      // Not writable: the last response closed the connection, and what followed it is ignored.
      if (socket.writable) o.rejections.answerOnSocket(socket, e, randomUUID());
      else lingerThenClose(socket, o.lingerMs);
    });
  };
}

/** The rejection for a parser error or a time-out; null for a connection that failed below HTTP. */
function httpError(err: NodeJS.ErrnoException & { rawPacket?: Buffer }, inBody: boolean, o: ClientErrorOptions): EdgeError | null {
  const code = err.code ?? "";
  if (code === "ERR_HTTP_REQUEST_TIMEOUT") {
    // RFC 9110 §15.5.9: 408, the request did not arrive within the time the edge waits for it.
    return new EdgeError(
      "REQUEST_TIMEOUT",
      "http",
      inBody ? `the request body did not arrive within http.requestTimeoutMs (${o.requestTimeoutMs} ms)` : `the request header did not arrive within http.headersTimeoutMs (${o.headersTimeoutMs} ms)`,
    );
  }
  if (!code.startsWith("HPE_")) return null;
  if (code === "HPE_HEADER_OVERFLOW") return new EdgeError("REQUEST_HEADERS_TOO_LARGE", "http", `request header fields exceed ${o.maxHeaderBytes} bytes`);
  if (code === "HPE_INVALID_VERSION") {
    // RFC 9110 §15.6.6: a well-formed version the edge does not serve is a 505; anything else is malformed.
    const version = /^[A-Z]+ \S+ HTTP\/(\d)\.\d\r?$/m.exec(err.rawPacket?.toString("latin1") ?? "");
    if (version && version[1] !== "1") return new EdgeError("REQUEST_VERSION_UNSUPPORTED", "http", `HTTP/${version[1]}.x is not served in HTTP/1 syntax; use HTTP/1.1 (RFC 9112 §2.3)`);
  }
  return new EdgeError("REQUEST_MALFORMED", "http", `malformed HTTP request (${code})`);
}
