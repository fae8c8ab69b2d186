import { getGlobalDispatcher, interceptors, request, type Dispatcher } from "undici";
import { describeFetchError, discard, readBoundedBytes, readBoundedText } from "../directory/http-body.js";

/** How a trust source is fetched: bounded in time and size (icp-brasil-facts §3 step 1). */
export interface HttpOptions {
  /** Whole-exchange deadline, per request. */
  readonly timeoutMs: number;
  /** undici dispatcher (tests, proxies); default: undici's global one. */
  readonly dispatcher?: Dispatcher;
}

/** A download that failed: the message names the URL and never quotes the body. */
export class DownloadError extends Error {
  override readonly name = "DownloadError";
}

// gov.br hosts move files around; a few redirects are followed, never an unbounded chain.
const MAX_REDIRECTIONS = 3;

async function get(url: string, options: HttpOptions): Promise<Dispatcher.ResponseData> {
  let res: Dispatcher.ResponseData;
  try {
    res = await request(url, {
      method: "GET",
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      signal: AbortSignal.timeout(options.timeoutMs),
      dispatcher: (options.dispatcher ?? getGlobalDispatcher()).compose(interceptors.redirect({ maxRedirections: MAX_REDIRECTIONS })),
    });
  } catch (err) {
    throw new DownloadError(`GET ${url}: ${describeFetchError(err)}`);
  }
  if (res.statusCode !== 200) {
    discard(res);
    throw new DownloadError(`GET ${url}: HTTP ${res.statusCode}`);
  }
  return res;
}

/** GET `url` as UTF-8 text of at most `maxBytes`. */
export async function fetchText(url: string, maxBytes: number, limitName: string, options: HttpOptions): Promise<string> {
  const res = await get(url, options);
  try {
    return await readBoundedText(res, maxBytes, limitName);
  } catch (err) {
    throw new DownloadError(`GET ${url}: ${describeFetchError(err)}`);
  }
}

/** GET `url` as bytes (the zip), at most `maxBytes`, declared or streamed. */
export async function fetchBytes(url: string, maxBytes: number, limitName: string, options: HttpOptions): Promise<Uint8Array> {
  const res = await get(url, options);
  try {
    return new Uint8Array(await readBoundedBytes(res, maxBytes, limitName));
  } catch (err) {
    throw new DownloadError(`GET ${url}: ${describeFetchError(err)}`);
  }
}
