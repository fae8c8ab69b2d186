import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { listen } from "../http/listen.js";

/** What the echo backend saw: the request exactly as it arrived from the edge. */
export interface EchoedRequest {
  readonly method: string;
  readonly path: string;
  /** Header lines in arrival order, `Name: value` as sent. */
  readonly headers: readonly string[];
  readonly body: { readonly bytes: number; readonly sha256: string; readonly text?: string };
}

const TEXT_LIMIT = 64 * 1024;

/**
 * The embedded default's backend: answers every request with a JSON description of what it received, so a
 * newcomer sees exactly which identity the edge forwarded. Not for production.
 */
export async function startEchoBackend(
  options: { host?: string; port?: number; /** Called for every request answered (the CLI prints it). */ onRequest?: (received: EchoedRequest) => void } = {},
): Promise<{ url: string; server: Server; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    describe(req).then(
      (received) => {
        options.onRequest?.(received);
        const body = `${JSON.stringify({ received }, null, 2)}\n`;
        res.writeHead(200, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", "content-length": Buffer.byteLength(body) });
        res.end(body);
      },
      // The client (the edge) went away in the middle of the body: there is no one to answer.
      () => res.destroy(),
    );
  });
  server.keepAliveTimeout = 10_000;
  const port = await listen(server, options.port ?? 0, options.host ?? "127.0.0.1");
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function describe(req: IncomingMessage): Promise<EchoedRequest> {
  const hash = createHash("sha256");
  let bytes = 0;
  const kept: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
    if (bytes <= TEXT_LIMIT) kept.push(chunk);
  }
  const headers: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push(`${req.rawHeaders[i]!}: ${req.rawHeaders[i + 1]!}`);
  const text = bytes > 0 && bytes <= TEXT_LIMIT ? Buffer.concat(kept).toString("utf8") : undefined;
  return { method: req.method ?? "", path: req.url ?? "", headers, body: { bytes, sha256: hash.digest("hex"), ...(text === undefined ? {} : { text }) } };
}
