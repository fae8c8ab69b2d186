import { request, type Dispatcher } from "undici";
import { describeFetchError, readBoundedBytes } from "../directory/http-body.js";

export interface DownloadOptions {
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly dispatcher?: Dispatcher | undefined;
  /** Aborts the download (the service closing). */
  readonly signal?: AbortSignal | undefined;
}

/** A body as received, with the validators for the next conditional request (RFC 9110 §13.1). */
export interface Downloaded {
  readonly url: string;
  readonly body: Uint8Array;
  readonly etag: string | null;
  readonly lastModified: string | null;
}

export type DownloadResult = { readonly status: "ok"; readonly value: Downloaded } | { readonly status: "not-modified"; readonly url: string };

/**
 * GET of one CRL distribution point over plain HTTP (icp-brasil-facts §7: trust comes from the signature, not
 * the transport), bounded in time (headers and body together) and size. `validators` come from the CRL
 * currently held when it came from this URL; a 304 then saves the download. Redirects are not followed.
 * Throws with a short, secret-free reason (the caller names the URL).
 */
export async function downloadCrl(url: string, validators: { etag: string | null; lastModified: string | null } | null, o: DownloadOptions): Promise<DownloadResult> {
  const headers: Record<string, string> = { accept: "application/pkix-crl, application/x-pkcs7-crl, */*;q=0.5" };
  if (validators?.etag) headers["if-none-match"] = validators.etag;
  if (validators?.lastModified) headers["if-modified-since"] = validators.lastModified;
  const signal = o.signal ? AbortSignal.any([AbortSignal.timeout(o.timeoutMs), o.signal]) : AbortSignal.timeout(o.timeoutMs);
  let res: Dispatcher.ResponseData;
  try {
    res = await request(url, {
      method: "GET",
      headers,
      headersTimeout: o.timeoutMs,
      bodyTimeout: o.timeoutMs,
      signal,
      // One request per AC every few minutes at most: a fresh connection, never one the server closed while idle.
      reset: true,
      ...(o.dispatcher ? { dispatcher: o.dispatcher } : {}),
    });
  } catch (err) {
    throw new Error(describeFetchError(err), { cause: err });
  }
  if (res.statusCode === 304 && validators) {
    await res.body.dump().catch(() => undefined);
    return { status: "not-modified", url };
  }
  if (res.statusCode !== 200) {
    await res.body.dump().catch(() => undefined);
    throw new Error(`HTTP ${res.statusCode}`);
  }
  try {
    const body = new Uint8Array(await readBoundedBytes(res, o.maxBytes, "revocation.maxCrlBytes"));
    return { status: "ok", value: { url, body, etag: header(res.headers.etag), lastModified: header(res.headers["last-modified"]) } };
  } catch (err) {
    throw new Error(describeFetchError(err), { cause: err });
  }
}

function header(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? (value[0] ?? null) : value;
}
