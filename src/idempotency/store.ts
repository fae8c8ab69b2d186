/** A backend response kept for replay: the status, the header fields worth repeating, the body bytes. */
export interface StoredResponse {
  readonly status: number;
  /** `[name, value]` pairs, names in lower case, in the order the backend sent them. */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer;
}

/** What a claim found for an organisation's key. */
export type ClaimOutcome =
  /** The key was free: this request is the first; `token` completes or releases it. */
  | { readonly kind: "claimed"; readonly token: string }
  /** The first request completed with the same fingerprint: its response. */
  | { readonly kind: "replay"; readonly response: StoredResponse }
  /** The key is held (in flight or completed) for another fingerprint. */
  | { readonly kind: "conflict" }
  /** The first request with the same fingerprint has not answered yet. */
  | { readonly kind: "in-flight" };

/**
 * Where first requests and their responses are kept, per organisation and key; every implementation has the same
 * contract (test/idempotency/store-contract.test.ts runs it on memory, the cluster primary, standalone Redis, Sentinel
 * and Cluster):
 * - `claim` is atomic across every replica sharing the store: of concurrent first requests exactly one is `claimed`;
 * - a claim holds for `claimTtlMs` unless completed or released by its token, so a replica that dies mid-request
 *   leaves the key stuck no longer than that;
 * - `complete` stores the response for `windowMs` only while the caller's token still holds the key (false otherwise);
 *   `release` frees it only for that token.
 * Every method rejects when the store cannot be reached; the caller fails closed (a first request is never forwarded
 * without its claim).
 */
export interface IdempotencyStore {
  claim(organisation: string, key: string, fingerprint: string, claimTtlMs: number): Promise<ClaimOutcome>;
  complete(organisation: string, key: string, token: string, response: StoredResponse, windowMs: number): Promise<boolean>;
  release(organisation: string, key: string, token: string): Promise<void>;
  /** Whether the store is reachable now (readiness). */
  reachable(): boolean;
  close(): Promise<void>;
}

/**
 * A stored response as bytes: a 4-byte big-endian length, that many bytes of JSON `{status, headers}`, the body.
 * One value per key, binary-safe, so the body is stored as the backend sent it.
 */
export function encodeResponse(r: StoredResponse): Buffer {
  const head = Buffer.from(JSON.stringify({ status: r.status, headers: r.headers }), "utf8");
  const length = Buffer.alloc(4);
  length.writeUInt32BE(head.length);
  return Buffer.concat([length, head, r.body]);
}

/** The inverse of {@link encodeResponse}; throws on bytes it did not write. */
export function decodeResponse(bytes: Buffer): StoredResponse {
  if (bytes.length < 4) throw new Error("stored response truncated");
  const n = bytes.readUInt32BE(0);
  if (4 + n > bytes.length) throw new Error("stored response truncated");
  const head = JSON.parse(bytes.subarray(4, 4 + n).toString("utf8")) as { status?: unknown; headers?: unknown };
  if (typeof head.status !== "number" || !Array.isArray(head.headers) || !head.headers.every((h) => Array.isArray(h) && h.length === 2 && h.every((x) => typeof x === "string")))
    throw new Error("stored response malformed");
  return { status: head.status, headers: head.headers as [string, string][], body: Buffer.from(bytes.subarray(4 + n)) };
}
