import type { Dispatcher } from "undici";

/** A body over its limit, declared (`Content-Length`) or streamed. */
export class BodyTooLargeError extends Error {
  override readonly name = "BodyTooLargeError";
}

/**
 * Reads a response body whole, refusing more than `maxBytes` (declared or streamed). `limitName` names the
 * setting in the error (e.g. `directory.maxDocumentBytes`).
 */
export async function readBoundedBytes(res: Dispatcher.ResponseData, maxBytes: number, limitName: string): Promise<Buffer> {
  const declared = Number(res.headers["content-length"]);
  if (declared > maxBytes) {
    discard(res);
    throw new BodyTooLargeError(`body of ${declared} bytes exceeds ${limitName} (${maxBytes})`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) {
      discard(res);
      throw new BodyTooLargeError(`body exceeds ${limitName} (${maxBytes})`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Stops reading a body. undici emits `UND_ERR_ABORTED` on a destroyed body: without a listener that is an uncaught exception. */
export function discard(res: Dispatcher.ResponseData): void {
  res.body.on("error", () => undefined);
  res.body.destroy();
}
