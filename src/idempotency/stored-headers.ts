/**
 * The response header fields an idempotent replay carries besides status and body, and why each: what a client
 * needs to read the stored bytes, or what the first answer told it about the resource. Everything else is either the
 * repeat's own or must not be repeated:
 * - `Date` is the replay's (RFC 9110 §6.6.1: the time the message was generated), `x-fapi-interaction-id` the
 *   repeat's (FAPI 1 Part 1 §6.2.1: the response carries the request's id);
 * - `Content-Length`/`Transfer-Encoding` frame the replay, hop-by-hop fields (RFC 9110 §7.6.1) belong to one
 *   connection, `Set-Cookie` to one exchange's session;
 * - identity fields the edge strips never reach the client anyway.
 */
export const DEFAULT_STORED_HEADERS: readonly string[] = [
  // RFC 9110 §8.3: how to read the bytes (OFB payments answer application/jwt, errors application/json).
  "content-type",
  // RFC 9110 §8.4: the stored bytes are the encoded ones.
  "content-encoding",
  // RFC 9110 §8.5: the language of the body.
  "content-language",
  // RFC 9110 §10.2.2 and §8.7: where the created resource is — a 201's main fact.
  "location",
  "content-location",
  // RFC 9110 §8.8: the validators of the representation the first request created.
  "etag",
  "last-modified",
  // RFC 9111 §5.2: a stored answer must not become cacheable on replay.
  "cache-control",
  "expires",
  // OFB API contract: x-v, the API version the bank implements, on every response.
  "x-v",
];
