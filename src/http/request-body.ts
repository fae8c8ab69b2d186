import type { IncomingMessage } from "node:http";
import { Http2ServerRequest } from "node:http2";
import { EdgeError } from "../errors.js";

/**
 * Reads a request body whole (a stage that must see it: a form-encoded body checked for `access_token`, a signed
 * message verified, an idempotency fingerprint), refusing more than the proxy's body limit with 413 before or while reading it.
 */
export function readRequestBody(incoming: IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(incoming.headers["content-length"]);
  if (declared > max) return Promise.reject(new EdgeError("REQUEST_TOO_LARGE", "proxy", `request body of ${declared} bytes exceeds the limit of ${max}`));
  // Plain 'data'/'end' listeners rather than `for await`: no async iterator, promise and microtask hop per chunk.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const done = () => {
      incoming.off("data", onData);
      incoming.off("end", onEnd);
      incoming.off("error", onError);
      incoming.off("close", onClose);
    };
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total <= max) {
        chunks.push(chunk);
        return;
      }
      done();
      // As leaving a `for await` early would: the rest of the body is not read.
      incoming.destroy();
      reject(new EdgeError("REQUEST_TOO_LARGE", "proxy", `request body exceeds the limit of ${max} bytes`));
    };
    const onEnd = () => {
      done();
      // One chunk (a small message, the common case) is used as it came, without a copy.
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    const onClose = () => {
      done();
      reject(Object.assign(new Error("the request body ended before it was complete"), { code: "ERR_STREAM_PREMATURE_CLOSE" }));
    };
    incoming.on("data", onData);
    incoming.once("end", onEnd);
    incoming.once("error", onError);
    incoming.once("close", onClose);
  });
}

/**
 * Whether the request says it has a body: a Content-Length other than 0, a Transfer-Encoding (RFC 9112 §6.3), or,
 * over HTTP/2, a header block that did not end the stream (RFC 9113 §8.1).
 */
export function declaresBody(incoming: IncomingMessage): boolean {
  const length = incoming.headers["content-length"];
  if (length !== undefined) return length !== "0";
  if (incoming.headers["transfer-encoding"] !== undefined) return true;
  const h2 = incoming as unknown as Http2ServerRequest;
  return h2 instanceof Http2ServerRequest && !h2.stream.endAfterHeaders;
}
