import { request, type Dispatcher } from "undici";
import { describeFetchError, readBoundedBytes } from "../directory/http-body.js";

export interface OcspPostOptions {
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly dispatcher?: Dispatcher | undefined;
  /** Aborts the exchange (the service closing). */
  readonly signal?: AbortSignal | undefined;
}

/**
 * POST of a DER OCSPRequest to a responder (RFC 6960 Appendix A.1: `application/ocsp-request`), over plain HTTP
 * as ICP-Brasil publishes them (trust comes from the response's signature), bounded in time (connection,
 * headers and body together) and size. Redirects are not followed. Returns the body of a 200; throws with a
 * short, secret-free reason otherwise (the caller names the URL).
 */
export async function postOcspRequest(url: string, body: Uint8Array, o: OcspPostOptions): Promise<Uint8Array> {
  const timeout = AbortSignal.timeout(o.timeoutMs);
  const signal = o.signal ? AbortSignal.any([timeout, o.signal]) : timeout;
  let res: Dispatcher.ResponseData;
  try {
    res = await request(url, {
      method: "POST",
      headers: { "content-type": "application/ocsp-request", accept: "application/ocsp-response" },
      body,
      headersTimeout: o.timeoutMs,
      bodyTimeout: o.timeoutMs,
      signal,
      ...(o.dispatcher ? { dispatcher: o.dispatcher } : {}),
    });
  } catch (err) {
    throw failure(err, timeout, o.timeoutMs);
  }
  if (res.statusCode !== 200) {
    await res.body.dump().catch(() => undefined);
    throw new Error(`HTTP ${res.statusCode}`);
  }
  try {
    return new Uint8Array(await readBoundedBytes(res, o.maxBytes, "revocation.ocsp.maxResponseBytes"));
  } catch (err) {
    throw failure(err, timeout, o.timeoutMs);
  }
}

function failure(err: unknown, timeout: AbortSignal, timeoutMs: number): Error {
  if (timeout.aborted) return new OcspTimeout(`timed out after ${timeoutMs} ms`, { cause: err });
  return new Error(describeFetchError(err), { cause: err });
}

/** The exchange did not finish within `timeoutMs` (counted apart from other failures). */
export class OcspTimeout extends Error {
  override readonly name = "OcspTimeout";
}
