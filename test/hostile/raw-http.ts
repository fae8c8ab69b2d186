import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { connect, type TLSSocket } from "node:tls";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { clientCredentials } from "../helpers/edge.js";

/** One HTTP/1.1 response as it arrived on the wire. */
export interface WireResponse {
  readonly status: number;
  /** Field names in lower case; a repeated field keeps its last value. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Milliseconds from the connection's start to the response's last byte. */
  readonly at: number;
}

/** What a hand-written client saw on one connection. */
export interface WireOutcome {
  readonly responses: readonly WireResponse[];
  /** Bytes after the last complete response (a cut-off response). */
  readonly leftover: string;
  /** Milliseconds from the connection's start until the edge closed it. */
  readonly closedAfter: number;
  readonly error: string | undefined;
}

/**
 * Splits bytes into HTTP/1.1 responses (Content-Length, chunked, or delimited by the close) and skips 1xx interim
 * responses. Never throws: what cannot be read stays in `rest`.
 */
export function parseResponses(bytes: Buffer, closed: boolean, at = 0): { responses: WireResponse[]; rest: Buffer } {
  const responses: WireResponse[] = [];
  let rest = bytes;
  for (;;) {
    const end = rest.indexOf("\r\n\r\n");
    if (end < 0) break;
    const [statusLine = "", ...lines] = rest.subarray(0, end).toString("latin1").split("\r\n");
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? Number.NaN);
    if (Number.isNaN(status)) break;
    const headers: Record<string, string> = {};
    for (const l of lines) headers[l.slice(0, l.indexOf(":")).toLowerCase()] = l.slice(l.indexOf(":") + 1).trim();
    let body: Buffer;
    let next = 0;
    const start = end + 4;
    if (status < 200 || status === 204 || status === 304) {
      body = Buffer.alloc(0);
      next = start;
    } else if (headers["transfer-encoding"]?.toLowerCase() === "chunked") {
      const parts: Buffer[] = [];
      let i = start;
      let done = false;
      for (;;) {
        const eol = rest.indexOf("\r\n", i);
        if (eol < 0) break;
        const size = Number.parseInt(rest.subarray(i, eol).toString("latin1"), 16);
        if (Number.isNaN(size)) break;
        if (size === 0) {
          // The last chunk, then optional trailer fields, then an empty line.
          const blank = rest.indexOf("\r\n\r\n", eol);
          if (blank >= 0) {
            next = blank + 4;
            done = true;
          }
          break;
        }
        if (rest.length < eol + 2 + size + 2) break;
        parts.push(rest.subarray(eol + 2, eol + 2 + size));
        i = eol + 2 + size + 2;
      }
      if (!done) break;
      body = Buffer.concat(parts);
    } else if (headers["content-length"] !== undefined) {
      const length = Number(headers["content-length"]);
      if (rest.length < start + length) break;
      body = rest.subarray(start, start + length);
      next = start + length;
    } else {
      if (!closed) break;
      body = rest.subarray(start);
      next = rest.length;
    }
    if (status >= 200) responses.push({ status, headers, body: body.toString("utf8"), at });
    rest = rest.subarray(next);
  }
  return { responses, rest };
}

/** An mTLS connection driven by hand: exact bytes out, every response in. */
export interface RawConnection {
  readonly socket: TLSSocket;
  write(bytes: string | Buffer): void;
  /** Resolves once `count` responses have arrived (rejects if the connection closes first or after `ms`). */
  responses(count: number, ms?: number): Promise<readonly WireResponse[]>;
  /** Resolves when the edge closes the connection (the client destroys it after `ms`). */
  closed(ms?: number): Promise<WireOutcome>;
}

/**
 * Opens a TLS connection to the edge with a participant's certificate (default `participant-a`; null: none) and
 * resolves once the handshake is complete.
 */
export function openRaw(pki: TestPkiManifest, port: number, options: { client?: string | null } = {}): Promise<RawConnection> {
  const started = performance.now();
  const credentials = options.client === null ? {} : clientCredentials(pki, options.client ?? "participant-a");
  // allowHalfOpen (a net.Socket option tls.connect passes on) lets a test half-close and still read.
  const socket = connect({ host: "127.0.0.1", port, servername: "localhost", ca: readFileSync(pki.trustAnchors), ...credentials, ...({ allowHalfOpen: true } as object) });
  let received: Buffer = Buffer.alloc(0);
  let parsed: WireResponse[] = [];
  let error: string | undefined;
  let closedAt: number | undefined;
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const w of [...waiters]) w();
  };
  socket.on("data", (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    const { responses, rest } = parseResponses(received, false, performance.now() - started);
    parsed = [...parsed, ...responses];
    received = rest;
    notify();
  });
  socket.on("error", (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
  // Half-open on our side only so that a test can half-close; when the edge ends, the client ends too.
  socket.on("end", () => socket.end());
  socket.on("close", () => {
    closedAt = performance.now() - started;
    const { responses, rest } = parseResponses(received, true, closedAt);
    parsed = [...parsed, ...responses];
    received = rest;
    notify();
  });
  const connection: RawConnection = {
    socket,
    write: (bytes) => void socket.write(bytes),
    responses: (count, ms = 10_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (parsed.length >= count) done(() => resolve(parsed.slice(0, count)));
          else if (closedAt !== undefined) done(() => reject(new Error(`connection closed after ${parsed.length} of ${count} responses (${error ?? "no error"}): ${JSON.stringify(received.toString("latin1").slice(0, 200))}`)));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`${parsed.length} of ${count} responses within ${ms} ms`))), ms);
        const done = (settle: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      }),
    closed: (ms = 10_000) =>
      new Promise((resolve) => {
        const outcome = (): WireOutcome => ({ responses: parsed, leftover: received.toString("latin1"), closedAfter: closedAt ?? Number.POSITIVE_INFINITY, error });
        if (closedAt !== undefined) return resolve(outcome());
        const timer = setTimeout(() => {
          waiters.delete(check);
          resolve(outcome());
          socket.destroy();
        }, ms);
        const check = () => {
          if (closedAt === undefined) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(outcome());
        };
        waiters.add(check);
      }),
  };
  return new Promise((resolve, reject) => {
    socket.once("secureConnect", () => resolve(connection));
    socket.once("error", reject);
  });
}

/** A request head with a fresh interaction id (returned, to find the request at the backend and in the logs). */
export function requestHead(method: string, path: string, fields: Record<string, string> = {}, version = "HTTP/1.1"): { head: string; id: string } {
  const id = fields["x-fapi-interaction-id"] ?? randomUUID();
  const all = { host: "localhost", "x-fapi-interaction-id": id, ...fields };
  return { head: `${method} ${path} ${version}\r\n${Object.entries(all).map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`, id };
}

/** The OFB `ResponseError` body's first code, or undefined when the body is not one. */
export function ofbCode(r: WireResponse): string | undefined {
  try {
    return (JSON.parse(r.body) as { errors?: { code?: string }[] }).errors?.[0]?.code;
  } catch {
    return undefined;
  }
}

/** Whether a wire response is in the edge's own error format: OFB body, JSON media type, no-store, an interaction id and a Date. */
export function isOfbError(r: WireResponse): boolean {
  const body = (() => {
    try {
      return JSON.parse(r.body) as { errors?: { code?: string; title?: string; detail?: string }[]; meta?: { requestDateTime?: string } };
    } catch {
      return undefined;
    }
  })();
  return (
    r.headers["content-type"] === "application/json; charset=utf-8" &&
    r.headers["cache-control"] === "no-store" &&
    /^[0-9a-f-]{36}$/i.test(r.headers["x-fapi-interaction-id"] ?? "") &&
    r.headers.date !== undefined &&
    typeof body?.errors?.[0]?.code === "string" &&
    typeof body.errors[0].title === "string" &&
    typeof body.meta?.requestDateTime === "string"
  );
}
