import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { listen } from "../http/listen.js";
import { PROBE_HEADER, type RecorderClient } from "./environment.js";
import { createOutboundDispatcher } from "../net/dispatcher.js";
import { exchange } from "../net/exchange.js";

/** A request as the backend received it from the edge. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  /** Header lines in arrival order, names as sent. */
  readonly headers: readonly (readonly [string, string])[];
  /** The body, base64. */
  readonly body: string;
}

/** Asks the recorder to answer with certificate and identity headers, which the edge must strip from responses. */
export const REFLECT_HEADER = "x-conformance-respond-with-identity";

/** Headers the recorder puts on a response when asked ({@link REFLECT_HEADER}): what a careless backend might echo. */
export const REFLECTED_RESPONSE_HEADERS: Readonly<Record<string, string>> = {
  "client-cert": ":TUlJQg==:",
  "client-cert-chain": ":TUlJQg==:",
  "x-forwarded-client-cert": "Hash=00;Subject=\"CN=leak\"",
  "x-ssl-client-cert": "-----BEGIN%20CERTIFICATE-----",
  "x-amzn-mtls-clientcert": "-----BEGIN%20CERTIFICATE-----",
  "x-ofb-organisation-id": "leaked-organisation",
};

const MAX_KEPT = 10_000;
const MAX_BODY = 1024 * 1024;

/**
 * The suite's backend: answers every request with a JSON description of what it received (or, for an
 * `application/jwt` body, the same bytes back), and keeps each request by its probe id so the suite can
 * tell whether a rejected request reached it. The control listener (a separate port, never behind the
 * edge) serves `GET /probes/<id>`. TEST ONLY.
 */
export async function startRecorder(options: { host?: string; port?: number; controlPort?: number } = {}) {
  const byProbe = new Map<string, RecordedRequest[]>();
  const order: string[] = [];

  function keep(probe: string, request: RecordedRequest) {
    let list = byProbe.get(probe);
    if (!list) {
      byProbe.set(probe, (list = []));
      order.push(probe);
      if (order.length > MAX_KEPT) byProbe.delete(order.shift()!);
    }
    list.push(request);
  }

  const backend: Server = createServer((req, res) => {
    void read(req).then(
      (body) => answer(req, res, body),
      () => res.destroy(),
    );
  });
  backend.keepAliveTimeout = 10_000;

  function answer(req: IncomingMessage, res: ServerResponse, body: Buffer) {
    const headers: [string, string][] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
    const recorded: RecordedRequest = { method: req.method ?? "", path: req.url ?? "", headers, body: body.toString("base64") };
    const probe = req.headers[PROBE_HEADER];
    if (typeof probe === "string") keep(probe, recorded);
    const extra = req.headers[REFLECT_HEADER] === "1" ? REFLECTED_RESPONSE_HEADERS : {};
    if (/^application\/jwt\b/i.test(req.headers["content-type"] ?? "")) {
      res.writeHead(200, { ...extra, "content-type": "application/jwt", "cache-control": "no-store", "content-length": body.length });
      res.end(body);
      return;
    }
    const text = `${JSON.stringify({ received: { method: recorded.method, path: recorded.path, headers: headers.map(([k, v]) => `${k}: ${v}`) } })}\n`;
    res.writeHead(200, { ...extra, "content-type": "application/json; charset=utf-8", "cache-control": "no-store", "content-length": Buffer.byteLength(text) });
    res.end(text);
  }

  const control: Server = createServer((req, res) => {
    const match = /^\/probes\/([A-Za-z0-9-]{1,64})$/.exec(req.url ?? "");
    if (req.method !== "GET" || !match) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "GET /probes/<id>" }));
      return;
    }
    const text = JSON.stringify({ requests: byProbe.get(match[1]!) ?? [] });
    res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store", "content-length": Buffer.byteLength(text) });
    res.end(text);
  });

  const host = options.host ?? "127.0.0.1";
  const port = await listen(backend, options.port ?? 0, host);
  let controlPort: number;
  try {
    controlPort = await listen(control, options.controlPort ?? 0, host);
  } catch (err) {
    backend.close();
    throw err;
  }
  const shown = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  const close = (server: Server) =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  const client: RecorderClient = { received: async (probe) => byProbe.get(probe) ?? [] };
  return {
    /** The upstream URL for the edge's routes. */
    url: `http://${shown}:${port}`,
    controlUrl: `http://${shown}:${controlPort}`,
    client,
    close: async () => {
      await Promise.all([close(backend), close(control)]);
    },
  };
}

export type Recorder = Awaited<ReturnType<typeof startRecorder>>;

/** Reads a running recorder's control API (target mode: `--recorder URL`). */
export function httpRecorderClient(controlUrl: string): RecorderClient {
  const base = controlUrl.replace(/\/+$/, "");
  // Each question on a fresh connection (reset), so the dispatcher holds no socket between them and needs no closing.
  const dispatcher = createOutboundDispatcher();
  return {
    async received(probe) {
      const res = await exchange(`${base}/probes/${encodeURIComponent(probe)}`, { dispatcher, timeoutMs: 5_000, maxBytes: MAX_BODY, limitName: "the recorder answer limit", reset: true });
      if (res.status !== 200) throw new Error(`recorder ${base} answered ${res.status}`);
      let body: { requests?: RecordedRequest[] };
      try {
        body = JSON.parse(res.body.toString("utf8")) as { requests?: RecordedRequest[] };
      } catch {
        throw new Error(`recorder ${base}: unexpected answer`);
      }
      if (!Array.isArray(body.requests)) throw new Error(`recorder ${base}: unexpected answer`);
      return body.requests;
    },
  };
}

async function read(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new Error("body too large");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
