import type { Dispatcher } from "undici";
import { followingRedirects } from "../net/dispatcher.js";
import { exchange } from "../net/exchange.js";

/** How a trust source is fetched: bounded in time and size (docs/architecture.md §Trust). */
export interface HttpOptions {
  /** Whole-exchange deadline, per request. */
  readonly timeoutMs: number;
  /** The product's outbound dispatcher (net/dispatcher.ts); redirects are followed on top of it. */
  readonly dispatcher: Dispatcher;
}

/** A download that failed: the message names the URL and never quotes the body. */
export class DownloadError extends Error {
  override readonly name = "DownloadError";
}

// gov.br hosts move files around; a few redirects are followed, never an unbounded chain.
const MAX_REDIRECTIONS = 3;

/** GET `url` as bytes (the zip), at most `maxBytes`, declared or streamed. */
export async function fetchBytes(url: string, maxBytes: number, limitName: string, options: HttpOptions): Promise<Uint8Array> {
  let res;
  try {
    res = await exchange(url, { dispatcher: followingRedirects(options.dispatcher, MAX_REDIRECTIONS), timeoutMs: options.timeoutMs, maxBytes, limitName });
  } catch (err) {
    throw new DownloadError((err as Error).message, { cause: err });
  }
  if (res.status !== 200) throw new DownloadError(`GET ${url}: HTTP ${res.status}`);
  return new Uint8Array(res.body);
}

/** GET `url` as UTF-8 text of at most `maxBytes`. */
export async function fetchText(url: string, maxBytes: number, limitName: string, options: HttpOptions): Promise<string> {
  return Buffer.from(await fetchBytes(url, maxBytes, limitName, options)).toString("utf8");
}
