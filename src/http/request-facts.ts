import type { IncomingHttpHeaders } from "node:http";

/** What these facts need of a request, HTTP/1.1 (`IncomingMessage`) or HTTP/2 (`Http2ServerRequest`). */
interface RequestHead {
  readonly headers: IncomingHttpHeaders;
  readonly socket: object | null;
}
import { loggableText } from "../log/text.js";
import { negotiatedTls } from "../tls/peer.js";

/** Longest `User-Agent` kept on an access line. */
const MAX_USER_AGENT = 256;
/** Longest host kept on an access line: a DNS name (RFC 1035 §2.3.4: 253 characters) and a port. */
const MAX_HOST = 262;

/** Access-line fields every request has, whoever answers it: what the client sent about itself, and its TLS. */
export interface RequestFacts {
  /** The `Host` field (HTTP/1.1) or `:authority` (HTTP/2) as received. */
  readonly host: string | undefined;
  readonly userAgent: string | undefined;
  readonly tlsVersion: string | undefined;
  readonly tlsCipher: string | undefined;
}

/** Reads them: the strings bounded and sanitised, the TLS facts from the connection (read once per connection). */
export function requestFacts(req: RequestHead, socket: object | null = req.socket): RequestFacts {
  const tls = socket ? negotiatedTls(socket) : undefined;
  const host = req.headers.host ?? req.headers[":authority"];
  return {
    host: loggableText(typeof host === "string" ? host : undefined, MAX_HOST),
    userAgent: loggableText(req.headers["user-agent"], MAX_USER_AGENT),
    tlsVersion: tls?.version,
    tlsCipher: tls?.cipher,
  };
}

/**
 * The request body's size: what the pipeline read, the bytes of a chunked body relayed, or the Content-Length the
 * client declared (also for a body never read because the request was refused); 0 without a body.
 */
export function requestBodyBytes(incoming: Pick<RequestHead, "headers">, read: Buffer | undefined, chunked: number | undefined): number {
  if (read !== undefined) return read.length;
  if (incoming.headers["transfer-encoding"] !== undefined) return chunked ?? 0;
  const declared = Number(incoming.headers["content-length"] ?? 0);
  return Number.isSafeInteger(declared) && declared >= 0 ? declared : 0;
}
