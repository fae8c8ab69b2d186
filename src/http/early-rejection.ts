import { STATUS_CODES, type IncomingMessage, type ServerResponse } from "node:http";
import { constants, type Http2ServerRequest, type Http2ServerResponse } from "node:http2";
import type { Duplex } from "node:stream";
import type { EdgeError } from "../errors.js";
import type { Logger } from "../log/logger.js";
import { operatorReason } from "../log/reasons.js";
import type { EdgeMetrics } from "../metrics/registry.js";
import { requestReceived } from "./h2-request.js";
import { INTERACTION_ID } from "./interaction-id.js";
import { JSON_UTF8, ofbErrorBody } from "./ofb-error.js";
import { requestBodyBytes, requestFacts } from "./request-facts.js";
import { negotiatedTls } from "../tls/peer.js";

export interface EarlyRejections {
  /** Answers a request the pipeline never sees (its head is readable, a ServerResponse exists). */
  answer(req: IncomingMessage, res: ServerResponse, e: EdgeError, interactionId: string): void;
  /**
   * Answers bytes that are not a request Node could parse (or a CONNECT, which Node hands over as a bare socket):
   * the response is written straight to the connection, which is then closed. Nothing is written, or logged as
   * answered, when the connection can no longer carry it.
   */
  answerOnSocket(socket: Duplex, e: EdgeError, interactionId: string): void;
  /**
   * Answers, on the socket, a request the pipeline is serving but whose response cannot be produced (its body turned
   * into bytes that are not HTTP, or did not arrive in time), then closes the connection: to the pipeline it looks
   * like a client that went away, and its access line records this answer (see {@link answeredOnSocket}).
   */
  answerInstead(req: IncomingMessage, e: EdgeError, interactionId: string): void;
  /**
   * HTTP/2: answers a stream's request on its stream; the connection and its other streams carry on. When the
   * client has not finished sending, the stream is then reset (by the HTTP/2 layer: `NO_ERROR`, RFC 9113 §8.1; here
   * `PROTOCOL_ERROR` for a malformed request, §8.1.1). `instead`: the pipeline is serving the request (its time ran
   * out), and its access line records this answer.
   */
  answerStream(req: Http2ServerRequest, res: Http2ServerResponse, e: EdgeError, interactionId: string, o: { readonly malformed?: boolean; readonly instead?: boolean }): void;
}

/** Requests answered on the socket instead of by the pipeline, with the rejection the client received. */
const answeredInstead = new WeakMap<IncomingMessage, EdgeError>();

/** The rejection the client received instead of this request's response, when the HTTP layer had to answer it. */
export function answeredOnSocket(req: IncomingMessage): EdgeError | undefined {
  return answeredInstead.get(req);
}

/**
 * Edge rejections decided before the app's pipeline runs, answered like every other rejection (OFB `ResponseError`
 * body, `application/json; charset=utf-8`, the interaction id, `Cache-Control: no-store`, `Date`), with the same
 * access line and counter. After an answer on a bare socket the edge stops sending and waits up to `lingerMs` for
 * the client to close before closing itself (RFC 9112 §9.6: closing at once can reset the connection before the
 * client has read the answer; waiting without bound lets a client hold it open).
 */
export function createEarlyRejections(deps: { readonly logger: Logger; readonly metrics: EdgeMetrics; readonly clock: () => Date; readonly lingerMs: number }): EarlyRejections {
  const log = (e: EdgeError, interactionId: string, socket: Duplex, responseBytes: number, req?: IncomingMessage | Http2ServerRequest) => {
    deps.metrics.rejections.inc({ stage: e.stage, code: e.code });
    const url = req?.url;
    const q = url?.indexOf("?") ?? -1;
    const facts = req ? requestFacts(req, socket) : undefined;
    const tls = facts ? undefined : negotiatedTls(socket);
    deps.logger.info(
      {
        kind: "access",
        interactionId,
        method: req?.method,
        protocol: req ? protocolOf(req) : "http1.1",
        // Without its query, as every access line: a query may carry a token.
        path: url === undefined ? undefined : q < 0 ? url : url.slice(0, q),
        host: facts?.host,
        decision: "rejected",
        code: e.code,
        reason: operatorReason(e.code),
        stage: e.stage,
        status: e.status,
        requestBytes: req ? requestBodyBytes(req, undefined, undefined) : 0,
        responseBytes,
        detail: e.message,
        remoteAddress: (socket as { remoteAddress?: string }).remoteAddress,
        tlsVersion: facts?.tlsVersion ?? tls?.version,
        tlsCipher: facts?.tlsCipher ?? tls?.cipher,
        userAgent: facts?.userAgent,
      },
      "request",
    );
  };
  const headers = (e: EdgeError, interactionId: string, body: string): Record<string, string | number> => ({
    "content-type": JSON_UTF8,
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
    [INTERACTION_ID]: interactionId,
    ...e.headers,
  });
  return {
    answer(req, res, e, interactionId) {
      const body = ofbErrorBody(e, deps.clock());
      // An unread body would be drained by Node after the answer; a refused request is not worth reading.
      res.writeHead(e.status, { ...headers(e, interactionId, body), ...(req.complete && req.httpVersionMajor === 1 ? {} : { connection: "close" }) });
      res.end(body);
      log(e, interactionId, req.socket, Buffer.byteLength(body), req);
    },
    answerOnSocket(socket, e, interactionId) {
      if (!socket.writable || socket.destroyed) {
        socket.destroy();
        return;
      }
      const answer = raw(e, interactionId);
      socket.end(answer.text);
      lingerThenClose(socket, deps.lingerMs);
      log(e, interactionId, socket, answer.bodyBytes);
    },
    answerInstead(req, e, interactionId) {
      const socket = req.socket;
      answeredInstead.set(req, e);
      if (!socket.writable || socket.destroyed) {
        socket.destroy();
        return;
      }
      // Closed once written, so that the pipeline stops (and aborts its upstream exchange) at once.
      socket.end(raw(e, interactionId).text, () => socket.destroy());
      lingerThenClose(socket, deps.lingerMs);
    },
    answerStream(req, res, e, interactionId, o) {
      const stream = req.stream;
      if (stream.closed || stream.destroyed) return;
      if (o.instead) answeredInstead.set(req as unknown as IncomingMessage, e);
      // Ahead of the HTTP/2 layer's own reset (NO_ERROR, once the response is complete): RFC 9113 §8.1.1.
      if (o.malformed) {
        stream.prependOnceListener("finish", () => {
          if (!requestReceived(stream)) stream.close(constants.NGHTTP2_PROTOCOL_ERROR);
        });
      }
      const body = ofbErrorBody(e, deps.clock());
      res.writeHead(e.status, headers(e, interactionId, body));
      res.end(body);
      if (!o.instead) log(e, interactionId, req.socket as unknown as Duplex, Buffer.byteLength(body), req);
    },
  };

  function raw(e: EdgeError, interactionId: string): { readonly text: string; readonly bodyBytes: number } {
    const now = deps.clock();
    const body = ofbErrorBody(e, now);
    const fields = Object.entries({ ...headers(e, interactionId, body), date: now.toUTCString(), connection: "close" });
    return { text: `HTTP/1.1 ${e.status} ${STATUS_CODES[e.status] ?? "Error"}\r\n${fields.map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n${body}`, bodyBytes: Buffer.byteLength(body) };
  }
}

/** The access log's `protocol` of a request: `http2`, `http1.1` or `http1.0`. */
export function protocolOf(req: { readonly httpVersionMajor: number; readonly httpVersion: string }): string {
  return req.httpVersionMajor === 2 ? "http2" : `http${req.httpVersion}`;
}

/** After the edge has ended its side, closes the connection once the client closes or `ms` have passed, whichever comes first. */
export function lingerThenClose(socket: Duplex, ms: number): void {
  if (socket.destroyed) return;
  const timer = setTimeout(() => socket.destroy(), ms);
  timer.unref();
  socket.once("close", () => clearTimeout(timer));
}
