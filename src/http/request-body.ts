import type { IncomingMessage } from "node:http";
import { Http2ServerRequest } from "node:http2";
import { EdgeError } from "../errors.js";

/**
 * Reads a request body whole (a stage that must see it: a form-encoded body checked for `access_token`, a signed
 * message verified, an idempotency fingerprint), refusing more than the proxy's body limit with 413 before or while reading it.
 */
export async function readRequestBody(incoming: IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(incoming.headers["content-length"]);
  if (declared > max) throw new EdgeError("REQUEST_TOO_LARGE", "proxy", `request body of ${declared} bytes exceeds the limit of ${max}`);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of incoming as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > max) throw new EdgeError("REQUEST_TOO_LARGE", "proxy", `request body exceeds the limit of ${max} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
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
