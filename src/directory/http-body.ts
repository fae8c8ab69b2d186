import type { Dispatcher } from "undici";

/**
 * Reads a response body as UTF-8 text, refusing more than `maxBytes` (declared or streamed). `limitName`
 * names the setting in the error (e.g. `directory.maxDocumentBytes`).
 */
export async function readBoundedText(res: Dispatcher.ResponseData, maxBytes: number, limitName: string): Promise<string> {
  return (await readBoundedBytes(res, maxBytes, limitName)).toString("utf8");
}

/** Reads a response body whole, refusing more than `maxBytes` (declared or streamed). */
export async function readBoundedBytes(res: Dispatcher.ResponseData, maxBytes: number, limitName: string): Promise<Buffer> {
  const declared = Number(res.headers["content-length"]);
  if (declared > maxBytes) {
    discard(res);
    throw new Error(`body of ${declared} bytes exceeds ${limitName} (${maxBytes})`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) {
      discard(res);
      throw new Error(`body exceeds ${limitName} (${maxBytes})`);
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

/** A short, secret-free description of a failed HTTP exchange (time-outs named as such). */
export function describeFetchError(err: unknown): string {
  const e = err as { code?: string; name?: string; message?: string };
  if (e?.name === "TimeoutError" || e?.code === "UND_ERR_HEADERS_TIMEOUT" || e?.code === "UND_ERR_BODY_TIMEOUT") return `timed out (${e.code ?? e.name})`;
  return `${e?.code ? `${e.code}: ` : ""}${(e?.message ?? String(err)).slice(0, 200)}`;
}
