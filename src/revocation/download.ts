import type { Dispatcher } from "undici";
import { exchange, headerValue } from "../net/exchange.js";

export interface DownloadOptions {
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly dispatcher: Dispatcher;
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
 * GET of one CRL distribution point over plain HTTP (ICP-Brasil distribution points are plain HTTP; trust comes from
 * the CRL's signature, RFC 5280 §6.3.3, not the transport), bounded in time (headers and body together) and size.
 * `validators` come from the CRL currently held when it came from this URL; a 304 then saves the download. Redirects
 * are not followed. Throws with a short, secret-free reason (the caller names the URL).
 */
export async function downloadCrl(url: string, validators: { etag: string | null; lastModified: string | null } | null, o: DownloadOptions): Promise<DownloadResult> {
  const headers: Record<string, string> = { accept: "application/pkix-crl, application/x-pkcs7-crl, */*;q=0.5" };
  if (validators?.etag) headers["if-none-match"] = validators.etag;
  if (validators?.lastModified) headers["if-modified-since"] = validators.lastModified;
  const res = await exchange(url, {
    dispatcher: o.dispatcher,
    headers,
    timeoutMs: o.timeoutMs,
    maxBytes: o.maxBytes,
    limitName: "revocation.maxCrlBytes",
    signal: o.signal,
    // One request per AC every few minutes at most: a fresh connection, never one the server closed while idle.
    reset: true,
    where: "",
  });
  if (res.status === 304 && validators) return { status: "not-modified", url };
  if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
  return { status: "ok", value: { url, body: new Uint8Array(res.body), etag: headerValue(res.headers.etag), lastModified: headerValue(res.headers["last-modified"]) } };
}
