import type { IncomingMessage } from "node:http";
import { EdgeError } from "../errors.js";

/** The methods the edge forwards, named in `Allow` when it refuses one (RFC 9110 §15.5.6). */
export const FORWARDED_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";

/** RFC 9110 §9.3.6 / §9.3.8: the edge is an origin to its clients, neither a tunnel nor a loop-back. */
const REFUSED_METHODS: ReadonlySet<string> = new Set(["CONNECT", "TRACE", "TRACK"]);

/** The answer to a CONNECT or TRACE: 405 with the methods the edge does forward. */
export function methodNotAllowed(method: string): EdgeError {
  return new EdgeError("REQUEST_METHOD_NOT_ALLOWED", "http", `${method} is not served: the edge forwards requests to an origin, it does not open tunnels or reflect requests (RFC 9110 §9.3.6, §9.3.8)`, {
    headers: { allow: FORWARDED_METHODS },
  });
}

/**
 * What Node's parser accepts but the edge does not forward, checked before the pipeline (where the client's
 * interaction id can still be read and echoed): another HTTP version than 1.0/1.1 (RFC 9112 §2.3: HTTP/2 and
 * later are not sent in this syntax, and HTTP/0.9 had no version in its request line), CONNECT and TRACE, a
 * repeated Host (RFC 9112 §3.2: 400; Node keeps the first and drops the rest, a backend might read the other),
 * and a backslash in the target (some backends read it as '/': path confusion).
 */
export function requestSyntaxProblem(req: IncomingMessage): EdgeError | null {
  if (req.httpVersionMajor !== 1) {
    return req.httpVersionMajor > 1
      ? new EdgeError("REQUEST_VERSION_UNSUPPORTED", "http", `HTTP/${req.httpVersion} is not served in HTTP/1 syntax; use HTTP/1.1 (RFC 9112 §2.3)`)
      : new EdgeError("REQUEST_MALFORMED", "http", `HTTP/${req.httpVersion} has no request line with a version; use HTTP/1.1 (RFC 9112 §2.3)`);
  }
  const method = refusedMethod(req.method);
  if (method) return method;
  const raw = req.rawHeaders;
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === 4 && raw[i]!.toLowerCase() === "host") hosts++;
  if (hosts > 1) return new EdgeError("REQUEST_HOST_INVALID", "http", "the Host header field is repeated (RFC 9112 §3.2)");
  return targetProblem(req.url);
}

/** CONNECT, TRACE and TRACK, refused whatever the HTTP version. */
export function refusedMethod(method: string | undefined): EdgeError | null {
  return method !== undefined && REFUSED_METHODS.has(method) ? methodNotAllowed(method) : null;
}

/** A backslash in the request target: some backends read it as '/' (path confusion). */
export function targetProblem(url: string | undefined): EdgeError | null {
  return url?.includes("\\") ? new EdgeError("REQUEST_PATH_INVALID", "http", "control characters, spaces or backslashes in the request target") : null;
}
