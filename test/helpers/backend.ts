import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage["headers"];
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
}

/**
 * A real HTTP backend that records every complete request it receives. Rejection tests assert `received` is empty:
 * the edge must never forward what it rejects.
 */
export async function startRecordingBackend(
  handler: (req: RecordedRequest, res: ServerResponse) => void = (req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ ok: true, path: req.url }));
  },
) {
  const received: RecordedRequest[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    try {
      for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
    } catch {
      // The edge aborted the request before its body was complete: the backend never had a request to act on.
      return;
    }
    const rec = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, rawHeaders: req.rawHeaders, body: Buffer.concat(chunks) };
    received.push(rec);
    handler(rec, res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    received,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** A localhost port nothing listens on (bound, then released): an upstream that refuses connections. */
export { freeTcpPort as freePort } from "../../src/http/listen.js";
