import type { Http2ServerRequest, ServerHttp2Stream } from "node:http2";
import { EdgeError } from "../errors.js";
import { refusedMethod, targetProblem } from "./request-syntax.js";

/** What the HTTP/2 layer refuses before the pipeline, and whether HTTP/2 calls the request malformed (RFC 9113 §8.1.1). */
export interface Http2RequestProblem {
  readonly error: EdgeError;
  readonly malformed: boolean;
}

/** RFC 9113 §6.5.2: a field's size in a field section is its name and value in octets plus 32. */
const FIELD_OVERHEAD = 32;

/**
 * What an HTTP/2 request must not carry although Node's HTTP/2 layer (nghttp2) lets it through, checked before the
 * pipeline, where the client's interaction id can still be echoed. nghttp2 itself resets, as RFC 9113 §8.1.1
 * requires, every stream with connection-specific fields (`Connection`, `Keep-Alive`, `Proxy-Connection`,
 * `Transfer-Encoding`, `Upgrade`, a `TE` other than `trailers`: §8.2.2), upper-case field names (§8.2), missing,
 * repeated, unknown or misplaced pseudo-header fields (§8.3), a `Content-Length` that disagrees with the data
 * (§8.1.1), a repeated `Host`, and neither `:authority` nor `Host` (§8.3.1); and it drops a field whose value
 * HTTP/2 forbids (NUL, CR, LF, whitespace at either end: §8.2.1). None of those reaches this point or the backend.
 *
 * Refused here: a field section larger than `maxHeaderBytes` (counted as §6.5.2 counts it: 431, as over HTTP/1.1;
 * nghttp2 resets streams over the larger SETTINGS_MAX_HEADER_LIST_SIZE the edge announces, see tls/http2.ts), a
 * `Host` other than `:authority` (§8.3.1: to be treated as malformed), a `:scheme` other than `https` on this TLS
 * connection, a target that is not printable ASCII, and what the edge refuses on every protocol (CONNECT, TRACE, a
 * backslash in the target).
 */
export function http2RequestProblem(req: Http2ServerRequest, maxHeaderBytes: number): Http2RequestProblem | null {
  const method = refusedMethod(req.method);
  if (method) return { error: method, malformed: false };
  const raw = req.rawHeaders;
  let size = 0;
  for (let i = 0; i < raw.length; i += 2) size += raw[i]!.length + raw[i + 1]!.length + FIELD_OVERHEAD;
  if (size > maxHeaderBytes) {
    return { error: new EdgeError("REQUEST_HEADERS_TOO_LARGE", "http", `request header fields exceed ${maxHeaderBytes} bytes (${size}, counted as RFC 9113 §6.5.2 counts them)`), malformed: false };
  }
  const authority = req.headers[":authority"];
  const host = req.headers.host;
  if (host !== undefined && authority !== undefined && host !== authority) {
    return { error: new EdgeError("REQUEST_HOST_INVALID", "http", "the Host header field differs from :authority (RFC 9113 §8.3.1)"), malformed: true };
  }
  if (req.scheme !== "https") {
    return { error: new EdgeError("REQUEST_MALFORMED", "http", `:scheme is ${JSON.stringify(req.scheme)} on a TLS connection; only https is served`), malformed: true };
  }
  // RFC 3986 §2: a URI is printable ASCII; over HTTP/1.1 Node's parser refuses anything else in the target.
  if (!PRINTABLE_ASCII.test(req.url)) return { error: new EdgeError("REQUEST_MALFORMED", "http", "the request target holds bytes a URI cannot (RFC 3986 §2): spaces, controls or raw non-ASCII"), malformed: true };
  const target = targetProblem(req.url);
  return target ? { error: target, malformed: false } : null;
}

const PRINTABLE_ASCII = /^[\x21-\x7e]*$/;

/**
 * Whether the client has sent all of its request on `stream`: END_STREAM received (RFC 9113 §5.1, "half-closed
 * (remote)"), or the stream is over. Unlike the readable side's `end`, this does not wait for the body to be read.
 */
export function requestReceived(stream: ServerHttp2Stream): boolean {
  return stream.endAfterHeaders || stream.closed || stream.destroyed || stream.state.remoteClose === 1;
}
