import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type SecureClientSessionOptions } from "node:http2";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";

/** One HTTP/2 connection (`node:http2`, ALPN h2, real TLS, optional client certificate) to the edge on 127.0.0.1. */
export function h2Connect(pki: TestPkiManifest, port: number, credentials?: { cert: Buffer; key: Buffer }, options: SecureClientSessionOptions = {}): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = connect(`https://localhost:${port}`, { host: "127.0.0.1", servername: "localhost", ca: readFileSync(pki.trustAnchors), ...credentials, ...options });
    session.once("connect", () => {
      session.off("error", reject);
      // A test sees what ended a session through its streams and `closed`; this keeps a late error from crashing the run.
      session.on("error", () => undefined);
      resolve(session);
    });
    session.once("error", reject);
  });
}

export interface H2Response {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  json<T = unknown>(): T;
}

export interface H2RequestOptions {
  readonly path?: string;
  readonly method?: string;
  readonly headers?: Record<string, string | string[]>;
  readonly body?: string | Buffer;
  /** Sets a fresh valid x-fapi-interaction-id unless false or given in headers. */
  readonly interactionId?: boolean;
  /** Leaves the request open after its header block (and `body`): the test writes and ends it. */
  readonly open?: boolean;
}

/** One request on `session`; rejects when the stream is reset or the session fails (the error's `code` says how). */
export function h2Request(session: ClientHttp2Session, o: H2RequestOptions = {}): Promise<H2Response> {
  return h2Outcome(h2Open(session, o));
}

/** Opens a request stream: its header block, then `body` if any; ended unless `open`. */
export function h2Open(session: ClientHttp2Session, o: H2RequestOptions = {}): ClientHttp2Stream {
  const stream = session.request(
    {
      ":method": o.method ?? "GET",
      ":path": o.path ?? "/open-banking/accounts/v2/accounts",
      ...(o.interactionId === false ? {} : { "x-fapi-interaction-id": randomUUID() }),
      ...o.headers,
    },
    { endStream: o.body === undefined && !o.open },
  );
  if (o.body !== undefined) {
    if (o.open) stream.write(o.body);
    else stream.end(o.body);
  }
  return stream;
}

/** The response on an open stream; rejects with the stream's error (e.g. `ERR_HTTP2_STREAM_ERROR` and its `rstCode`). */
export function h2Outcome(stream: ClientHttp2Stream): Promise<H2Response> {
  return new Promise((resolve, reject) => {
    let headers: IncomingHttpHeaders | undefined;
    const chunks: Buffer[] = [];
    stream.on("response", (h) => (headers = h));
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.once("end", () => {
      const body = Buffer.concat(chunks);
      if (!headers) return reject(Object.assign(new Error(`stream ended without a response (rstCode ${stream.rstCode})`), { code: "NO_RESPONSE", rstCode: stream.rstCode }));
      resolve({ status: Number(headers[":status"]), headers, body, json: <T>() => JSON.parse(body.toString("utf8")) as T });
    });
    stream.once("error", (err: NodeJS.ErrnoException) => reject(Object.assign(err, { rstCode: stream.rstCode })));
  });
}

/** Closes a session without waiting for its streams. */
export function h2Close(session: ClientHttp2Session): Promise<void> {
  if (session.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    session.once("close", () => resolve());
    session.destroy(undefined, constants.NGHTTP2_NO_ERROR);
  });
}
