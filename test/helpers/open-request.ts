import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import type { ClientRequest, IncomingHttpHeaders } from "node:http";
import { request, type Agent } from "node:https";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";

/** How an HTTPS exchange ended, including the ways a plain request/response helper cannot express. */
export interface ExchangeOutcome {
  /** Null when no response arrived at all. */
  readonly status: number | null;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The response started but its body was cut off (connection closed or reset mid-body). */
  readonly aborted: boolean;
  /** The error that ended the exchange, if any (e.g. ECONNRESET, EPIPE). */
  readonly error: NodeJS.ErrnoException | null;
}

export interface OpenRequestOptions {
  readonly pki: TestPkiManifest;
  readonly port: number;
  readonly credentials?: { cert: Buffer; key: Buffer } | undefined;
  readonly path?: string;
  readonly method?: string;
  readonly headers?: Record<string, string | string[]>;
  readonly agent?: Agent | false;
  /** Called with each response chunk as it arrives. */
  readonly onResponseData?: (chunk: Buffer) => void;
}

/**
 * An HTTPS request whose body the test writes itself (chunk by chunk, over time, or never finished).
 * `outcome` always resolves: with the response, with `aborted` when the body was cut off, or with the error
 * when no response arrived. A fresh valid `x-fapi-interaction-id` is set unless given in headers.
 */
export function openHttpsRequest(o: OpenRequestOptions): { req: ClientRequest; outcome: Promise<ExchangeOutcome> } {
  const headers = { "x-fapi-interaction-id": randomUUID(), ...o.headers };
  let settle!: (outcome: ExchangeOutcome) => void;
  const outcome = new Promise<ExchangeOutcome>((resolve) => (settle = resolve));
  const req = request({
    host: "127.0.0.1",
    servername: "localhost",
    port: o.port,
    path: o.path ?? "/open-banking/accounts/v2/accounts",
    method: o.method ?? "POST",
    headers,
    ca: readFileSync(o.pki.trustAnchors),
    agent: o.agent ?? false,
    ...(o.credentials ?? {}),
  });
  req.on("response", (res) => {
    const chunks: Buffer[] = [];
    const done = (aborted: boolean, error: NodeJS.ErrnoException | null) =>
      settle({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), aborted, error });
    res.on("data", (c: Buffer) => {
      chunks.push(c);
      o.onResponseData?.(c);
    });
    res.on("end", () => done(false, null));
    res.on("aborted", () => done(true, null));
    res.on("error", (err: NodeJS.ErrnoException) => done(true, err));
  });
  // Writing to a connection the edge already answered and closed fails (EPIPE/ECONNRESET); that error only
  // ends the exchange when no response was read.
  req.on("error", (err: NodeJS.ErrnoException) => settle({ status: null, headers: {}, body: Buffer.alloc(0), aborted: false, error: err }));
  return { req, outcome };
}

/** Writes `chunk` and resolves once it has been handed to the socket (honours backpressure). */
export function writeChunk(req: ClientRequest, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    req.write(chunk, (err) => (err ? reject(err) : resolve()));
  });
}
