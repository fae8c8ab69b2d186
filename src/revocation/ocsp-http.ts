import type { Dispatcher } from "undici";
import { exchange } from "../net/exchange.js";
import { OutboundError } from "../net/errors.js";

export interface OcspPostOptions {
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly dispatcher: Dispatcher;
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
  let res;
  try {
    res = await exchange(url, {
      dispatcher: o.dispatcher,
      method: "POST",
      headers: { "content-type": "application/ocsp-request", accept: "application/ocsp-response" },
      body,
      timeoutMs: o.timeoutMs,
      maxBytes: o.maxBytes,
      limitName: "revocation.ocsp.maxResponseBytes",
      signal: o.signal,
      where: "",
    });
  } catch (err) {
    if (err instanceof OutboundError && err.timedOut) throw new OcspTimeout(`timed out after ${o.timeoutMs} ms`, { cause: err });
    throw err;
  }
  if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
  return new Uint8Array(res.body);
}

/** The exchange did not finish within `timeoutMs` (counted apart from other failures). */
export class OcspTimeout extends Error {
  override readonly name = "OcspTimeout";
}
