/**
 * An outbound exchange that failed: network, time-out, an HTTP status the caller did not expect, or a body over
 * its limit. The message names the request (method and URL, or what the caller passed as `where`) and never
 * quotes a body, a header value or a credential.
 */
export class OutboundError extends Error {
  override readonly name = "OutboundError";
  constructor(
    message: string,
    /** The exchange's own time bound expired (connection, headers or body), as opposed to any other failure. */
    readonly timedOut: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A short, secret-free description of a failed HTTP exchange (time-outs named as such). */
export function describeFetchError(err: unknown): string {
  if (err instanceof OutboundError) return err.message;
  const e = err as { code?: string; name?: string; message?: string };
  if (e?.name === "TimeoutError" || e?.code === "UND_ERR_HEADERS_TIMEOUT" || e?.code === "UND_ERR_BODY_TIMEOUT") return `timed out (${e.code ?? e.name})`;
  return `${e?.code ? `${e.code}: ` : ""}${(e?.message ?? String(err)).slice(0, 200)}`;
}
