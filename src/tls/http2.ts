import { constants, createServer, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session, type ServerOptions } from "node:http2";
import type { Server as TlsServer, TLSSocket } from "node:tls";
import { requestReceived } from "../http/h2-request.js";
import type { Logger } from "../log/logger.js";

export interface Http2LayerOptions {
  /** `http.maxHeaderBytes`: the field section a request may carry (see SETTINGS_MAX_HEADER_LIST_SIZE below). */
  readonly maxHeaderBytes: number;
  readonly maxConcurrentStreams: number;
  readonly maxSessionMemoryMb: number;
  /** `http.keepAliveTimeoutMs`: a connection with no open stream for this long is closed (GOAWAY). */
  readonly idleTimeoutMs: number;
  /** `http.requestTimeoutMs`: a request whose body has not all arrived this long after its header block. */
  readonly requestTimeoutMs: number;
  readonly logger: Logger;
  /** Every request, as Node's compatibility API hands it over (CONNECT included: the listener refuses it). */
  readonly onRequest: (req: Http2ServerRequest, res: Http2ServerResponse) => void;
  /** A request still incomplete at `requestTimeoutMs`. */
  readonly onRequestTimeout: (req: Http2ServerRequest, res: Http2ServerResponse) => void;
}

/** HTTP/2 on the TLS connections that negotiated `h2`. */
export interface Http2Layer {
  /** Serves HTTP/2 on a connection whose handshake (and the listener's connection checks) completed with ALPN `h2`. */
  accept(socket: TLSSocket): void;
  /**
   * Drain: every connection gets a GOAWAY (RFC 9113 §6.8); streams already open finish, new ones are refused, and
   * each connection closes once its last stream has ended. Connections accepted afterwards get a GOAWAY at once.
   */
  close(): void;
  /** Open HTTP/2 connections. */
  sessions(): number;
}

/**
 * Limits the edge sets itself rather than inherit (Node's and nghttp2's defaults are not policy). Besides these,
 * nghttp2 (the HTTP/2 implementation inside Node) bounds, with no setting in Node, what a client can make the edge
 * queue (PING and SETTINGS acknowledgements: GOAWAY ENHANCE_YOUR_CALM when too many wait), CONTINUATION frames per
 * header block, and stream resets (a burst of 1000, then 33 per second, then GOAWAY: the CVE-2023-44487 "Rapid
 * Reset" defence).
 */
const FIXED = {
  /** RFC 7541 §4.2 HPACK dynamic table the edge keeps per connection (the RFC 9113 §6.5.2 initial value). */
  headerTableSize: 4_096,
  /** RFC 9113 §6.5.2 initial values: 64 KiB − 1 unacknowledged body bytes per stream, 16 KiB frames. */
  initialWindowSize: 65_535,
  maxFrameSize: 16_384,
  /** Frames a client may send that nghttp2 finds invalid (on closed streams, bad flow control, …) before the connection is closed. */
  maxSessionInvalidFrames: 100,
  /** Streams refused (over maxConcurrentStreams or session memory) before the connection is closed. */
  maxSessionRejectedStreams: 100,
  /** PINGs the edge itself has sent and awaits acknowledgement of. */
  maxOutstandingPings: 10,
  /** Parameters in one SETTINGS frame. */
  maxSettings: 32,
} as const;

/**
 * The HTTP/2 side of a TLS listener: a `node:http2` server that never listens, fed the TLS sockets that negotiated
 * `h2` (the HTTP/1.1 server keeps the others), with explicit limits. A connection with no open stream for
 * `idleTimeoutMs` — including one that never sends a request — is closed with a GOAWAY; a PING does not keep it
 * alive. A request whose body has not all arrived `requestTimeoutMs` after its header block is handed to
 * `onRequestTimeout` (the listener answers 408).
 */
export function createHttp2Layer(o: Http2LayerOptions): Http2Layer {
  const settings: ServerOptions["settings"] = {
    headerTableSize: FIXED.headerTableSize,
    // RFC 9113 §8.4: a server push is never sent; a server may only announce 0.
    enablePush: false,
    initialWindowSize: FIXED.initialWindowSize,
    maxFrameSize: FIXED.maxFrameSize,
    maxConcurrentStreams: o.maxConcurrentStreams,
    // The edge reads a field section up to twice http.maxHeaderBytes and answers one over maxHeaderBytes with 431 in
    // the OFB format (RFC 9113 §10.5.1), as over HTTP/1.1; nghttp2 resets a stream beyond this (ENHANCE_YOUR_CALM).
    maxHeaderListSize: 2 * o.maxHeaderBytes,
    // RFC 8441 extended CONNECT (WebSockets over HTTP/2) is not offered: the edge forwards requests, not tunnels.
    enableConnectProtocol: false,
  };
  const server = createServer({
    settings,
    maxSessionMemory: o.maxSessionMemoryMb,
    // RFC 9113 §6.5.2 counts every field as at least 32 bytes, so no list within maxHeaderListSize has more fields.
    maxHeaderListPairs: Math.ceil((2 * o.maxHeaderBytes) / 32),
    maxSessionInvalidFrames: FIXED.maxSessionInvalidFrames,
    maxSessionRejectedStreams: FIXED.maxSessionRejectedStreams,
    maxOutstandingPings: FIXED.maxOutstandingPings,
    maxSettings: FIXED.maxSettings,
  });
  const sessions = new Set<ServerHttp2Session>();
  let closing = false;

  const serve = (req: Http2ServerRequest, res: Http2ServerResponse) => {
    const stream = req.stream;
    // RFC 9113 §8.1: once the response is complete, a client still sending its request (a refused upload, a body the
    // backend did not wait for) is told to stop with RST_STREAM NO_ERROR, rather than leave the stream open.
    stream.once("finish", () => {
      if (!requestReceived(stream)) stream.close(constants.NGHTTP2_NO_ERROR);
    });
    if (!requestReceived(stream)) {
      const timer = setTimeout(() => {
        if (!requestReceived(stream)) o.onRequestTimeout(req, res);
      }, o.requestTimeoutMs);
      stream.once("close", () => clearTimeout(timer));
    }
    o.onRequest(req, res);
  };
  server.on("request", serve);
  // Node hands CONNECT over separately; the listener answers it like any request it refuses.
  server.on("connect", serve);
  server.on("sessionError", (err: NodeJS.ErrnoException, session: ServerHttp2Session) => {
    o.logger.info({ kind: "http2", event: "connection-error", error: err.code, remoteAddress: session.socket?.remoteAddress }, "HTTP/2 connection closed on error");
  });
  server.on("session", (session: ServerHttp2Session) => {
    sessions.add(session);
    let streams = 0;
    let idle: NodeJS.Timeout | undefined;
    const arm = () => {
      idle = setTimeout(() => session.close(), o.idleTimeoutMs);
    };
    session.on("stream", (stream) => {
      streams++;
      clearTimeout(idle);
      stream.once("close", () => {
        if (--streams === 0 && !session.closed && !session.destroyed) arm();
      });
    });
    session.once("close", () => {
      clearTimeout(idle);
      sessions.delete(session);
    });
    arm();
    if (closing) session.close();
  });

  return {
    accept(socket) {
      // Half-closed connections are an HTTP/1 matter (RFC 9112 §9.6); an HTTP/2 client ends streams, not the connection.
      socket.allowHalfOpen = false;
      server.emit("connection", socket);
    },
    close() {
      closing = true;
      for (const session of sessions) session.close();
    },
    sessions: () => sessions.size,
  };
}

/**
 * Splits a TLS server's connections by the protocol ALPN settled on: `h2` to `h2`, every other one (`http/1.1`, or
 * no ALPN) to the HTTP/1.1 layer the https.Server attached to `secureConnection`, exactly as before. Listeners the
 * caller prepends to `secureConnection` afterwards still run first, for both.
 */
export function routeByAlpn(server: TlsServer, h2: Http2Layer | null): void {
  const http1 = server.listeners("secureConnection") as ((socket: TLSSocket) => void)[];
  server.removeAllListeners("secureConnection");
  server.on("secureConnection", (socket: TLSSocket) => {
    if (h2 === null || socket.alpnProtocol !== "h2") {
      for (const listener of http1) listener.call(server, socket);
      return;
    }
    // A connection the listener's checks refused is closed by now.
    if (!socket.destroyed) h2.accept(socket);
  });
}
