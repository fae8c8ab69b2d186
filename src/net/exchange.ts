import type { IncomingHttpHeaders } from "node:http";
import { request, type Dispatcher } from "undici";
import { readBoundedBytes, discard } from "./body.js";
import { describeFetchError, OutboundError } from "./errors.js";

/** One outbound request and the bounds it runs within. */
export interface OutboundRequest {
  /** Created by {@link createOutboundDispatcher} (required: never undici's process-global dispatcher). */
  readonly dispatcher: Dispatcher;
  readonly method?: "GET" | "POST";
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  /** Bound on the whole exchange: connection, headers and body together. */
  readonly timeoutMs: number;
  /** Largest body read, declared or streamed. */
  readonly maxBytes: number;
  /** Names the limit in errors, e.g. `directory.maxDocumentBytes`. */
  readonly limitName: string;
  /** Aborts the exchange (the owner closing). */
  readonly signal?: AbortSignal | undefined;
  /** A fresh connection, never one the server may have closed while idle (periodic fetches minutes apart). */
  readonly reset?: boolean;
  /**
   * Which answers have a body worth reading; the others are drained and returned with an empty body, so a
   * large error page is never buffered. Default: status 200 only.
   */
  readonly readBody?: (status: number, headers: IncomingHttpHeaders) => boolean;
  /** How the request is named in errors; default `<METHOD> <url>`; `""` when the caller names it itself. */
  readonly where?: string;
}

export interface OutboundResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** Empty unless `readBody` accepted the answer. */
  readonly body: Buffer;
}

const READ_200 = (status: number) => status === 200;

/**
 * The product's one way to make an outbound HTTP request: bounded in time (one deadline for connection,
 * headers and body) and size, through the dispatcher the product created. Any failure — network, time-out,
 * body over its limit, the owner aborting — rejects with an {@link OutboundError} that names the request; an
 * HTTP status is not a failure here: the caller decides what each status means.
 */
export async function exchange(url: string | URL, r: OutboundRequest): Promise<OutboundResponse> {
  const method = r.method ?? "GET";
  const where = r.where ?? `${method} ${String(url)}`;
  const timeout = AbortSignal.timeout(r.timeoutMs);
  const signal = r.signal ? AbortSignal.any([timeout, r.signal]) : timeout;
  const fail = (err: unknown) =>
    new OutboundError(`${where ? `${where}: ` : ""}${timeout.aborted ? `timed out after ${r.timeoutMs} ms` : describeFetchError(err)}`, timeout.aborted, { cause: err });
  let res: Dispatcher.ResponseData;
  try {
    res = await request(url, {
      method,
      ...(r.headers ? { headers: { ...r.headers } } : {}),
      ...(r.body !== undefined ? { body: r.body } : {}),
      headersTimeout: r.timeoutMs,
      bodyTimeout: r.timeoutMs,
      signal,
      ...(r.reset ? { reset: true } : {}),
      dispatcher: r.dispatcher,
    });
  } catch (err) {
    throw fail(err);
  }
  if (!(r.readBody ?? READ_200)(res.statusCode, res.headers)) {
    // Drained, not destroyed: the connection stays usable for the next request.
    await res.body.dump().catch(() => undefined);
    return { status: res.statusCode, headers: res.headers, body: Buffer.alloc(0) };
  }
  try {
    return { status: res.statusCode, headers: res.headers, body: await readBoundedBytes(res, r.maxBytes, r.limitName) };
  } catch (err) {
    discard(res);
    throw fail(err);
  }
}

/** The first value of a response header, or null. */
export function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? (value[0] ?? null) : value;
}
