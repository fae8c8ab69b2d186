import type { ResponseCapture } from "../proxy/forward.js";
import type { StoredResponse } from "./store.js";

/** How a first request's response ended, for the decision to store it. */
export type Captured =
  /** Complete, within the size bound: what would be stored. */
  | { readonly kind: "complete"; readonly response: StoredResponse }
  /** Complete, but its body exceeded `maxBytes` (not kept). */
  | { readonly kind: "too-large"; readonly status: number; readonly bytes: number }
  /** No complete response was sent (the exchange failed, or the client went away). */
  | { readonly kind: "incomplete" };

/**
 * A {@link ResponseCapture} that keeps the status, the header fields named in `storedHeaders` (lower case) and the
 * body up to `maxBytes`; past that it drops the body and only counts.
 */
export function createCapture(maxBytes: number, storedHeaders: ReadonlySet<string>): ResponseCapture & { result(): Captured } {
  let status = 0;
  let headers: [string, string][] = [];
  let chunks: Buffer[] = [];
  let bytes = 0;
  let ended = false;
  return {
    head(s, fields) {
      status = s;
      headers = [];
      for (let i = 0; i < fields.length; i += 2) {
        const name = fields[i]!.toLowerCase();
        if (storedHeaders.has(name)) headers.push([name, fields[i + 1]!]);
      }
    },
    data(chunk) {
      bytes += chunk.length;
      if (bytes <= maxBytes) chunks.push(chunk);
      else chunks = [];
    },
    end() {
      ended = true;
    },
    result() {
      if (!ended || status === 0) return { kind: "incomplete" };
      if (bytes > maxBytes) return { kind: "too-large", status, bytes };
      return { kind: "complete", response: { status, headers, body: Buffer.concat(chunks, bytes) } };
    },
  };
}
