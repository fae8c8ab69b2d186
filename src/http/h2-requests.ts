import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { EdgeError } from "../errors.js";
import { connectionOf } from "../tls/peer.js";
import type { EarlyRejections } from "./early-rejection.js";
import { http2RequestProblem } from "./h2-request.js";
import { INTERACTION_ID, readInteractionId } from "./interaction-id.js";

export interface Http2RequestsOptions {
  readonly rejections: EarlyRejections;
  readonly maxHeaderBytes: number;
  readonly requestTimeoutMs: number;
  /** What the connection's requests wait for before the pipeline (a strict connection's first-CRL verdict), if anything. */
  readonly waitFor: (connection: object) => Promise<void> | undefined;
  /** The pipeline. */
  readonly serve: (req: Http2ServerRequest, res: Http2ServerResponse) => void;
}

/**
 * How a listener serves HTTP/2 requests: refused before the pipeline as HTTP/2 requires (see `http2RequestProblem`),
 * held while their connection's verdict waits (a connection refused meanwhile is closed, and its requests go
 * nowhere), then handed to the same pipeline as HTTP/1.1 requests. A request whose body is late gets 408.
 */
export function createHttp2Requests(o: Http2RequestsOptions) {
  return {
    onRequest(req: Http2ServerRequest, res: Http2ServerResponse): void {
      const problem = http2RequestProblem(req, o.maxHeaderBytes);
      if (problem) {
        o.rejections.answerStream(req, res, problem.error, readInteractionId(req.headers[INTERACTION_ID]).id, { malformed: problem.malformed });
        return;
      }
      const connection = connectionOf(req.socket) as { readonly destroyed: boolean };
      const decision = o.waitFor(connection);
      if (!decision) return o.serve(req, res);
      void decision.then(() => {
        if (!connection.destroyed) o.serve(req, res);
      });
    },
    onRequestTimeout(req: Http2ServerRequest, res: Http2ServerResponse): void {
      // The backend answered before the request was complete: its response is delivered, and then the HTTP/2 layer
      // resets the stream (RFC 9113 §8.1).
      if (res.headersSent) return;
      // RFC 9110 §15.5.9, as for an HTTP/1.1 request whose body is late.
      const e = new EdgeError("REQUEST_TIMEOUT", "http", `the request body did not arrive within http.requestTimeoutMs (${o.requestTimeoutMs} ms)`);
      o.rejections.answerStream(req, res, e, readInteractionId(req.headers[INTERACTION_ID]).id, { instead: true });
    },
  };
}
