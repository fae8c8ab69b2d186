import type { IncomingMessage } from "node:http";
import { EdgeError } from "../errors.js";

/**
 * Reads a request body whole, refusing more than `max` bytes (413, before reading when the declared length says so).
 * For the stages that must see the body before it is forwarded (a form-encoded token, an idempotency fingerprint);
 * the proxy then sends these bytes instead of the stream.
 */
export async function readRequestBody(incoming: IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(incoming.headers["content-length"]);
  if (declared > max) throw new EdgeError("REQUEST_TOO_LARGE", "proxy", `request body of ${declared} bytes exceeds the limit of ${max}`);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of incoming as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > max) throw new EdgeError("REQUEST_TOO_LARGE", "proxy", `request body exceeds the limit of ${max} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
