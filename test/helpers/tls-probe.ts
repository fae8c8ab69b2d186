import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { Agent, request } from "node:https";
import { connect, type ConnectionOptions, type TLSSocket } from "node:tls";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";

/** What a raw TLS client saw: a completed handshake (the socket stays open) or the error that ended it. */
export type HandshakeOutcome =
  | {
      readonly ok: true;
      readonly socket: TLSSocket;
      readonly protocol: string | null;
      readonly cipher: string;
      /** Session state the server handed out (TLS 1.2 session, TLS 1.3 tickets), in arrival order; grows while the socket lives. */
      readonly sessions: readonly Buffer[];
    }
  | { readonly ok: false; readonly error: NodeJS.ErrnoException };

/**
 * A real TLS handshake with `node:tls` against 127.0.0.1:`port`, trusting the test PKI's anchors. Never
 * rejects: a refused handshake is an outcome. The caller owns (and must end) a returned socket.
 */
export function tlsHandshake(pki: TestPkiManifest, port: number, options: ConnectionOptions = {}): Promise<HandshakeOutcome> {
  return new Promise((resolve) => {
    const sessions: Buffer[] = [];
    const socket = connect({ host: "127.0.0.1", port, servername: "localhost", ca: readFileSync(pki.trustAnchors), ...options });
    socket.on("session", (session: Buffer) => sessions.push(session));
    socket.once("secureConnect", () => resolve({ ok: true, socket, protocol: socket.getProtocol(), cipher: socket.getCipher().name, sessions }));
    socket.once("error", (error: NodeJS.ErrnoException) => {
      socket.destroy();
      resolve({ ok: false, error });
    });
  });
}

/** What came back for one raw HTTP/1.1 request: the status (0 when none), and how the connection ended. */
export interface RawExchange {
  readonly status: number;
  readonly response: string;
  readonly error: string | undefined;
}

/**
 * Writes one `Connection: close` HTTP/1.1 request on an established TLS socket and reads until the server
 * ends the connection. Lets a test see "handshake completed, then the edge closed without an HTTP byte".
 */
export function rawRequest(socket: TLSSocket, path: string, headers: Record<string, string> = {}): Promise<RawExchange> {
  if (socket.destroyed) return Promise.resolve({ status: 0, response: "", error: "closed before the request" });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let error: string | undefined;
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    socket.once("close", () => {
      const response = Buffer.concat(chunks).toString("utf8");
      const status = /^HTTP\/1\.1 (\d{3}) /.exec(response);
      resolve({ status: status ? Number(status[1]) : 0, response, error });
    });
    const fields = { host: "localhost", "x-fapi-interaction-id": randomUUID(), connection: "close", ...headers };
    socket.write(`GET ${path} HTTP/1.1\r\n${Object.entries(fields).map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`);
  });
}

export interface KeptResponse {
  readonly status: number;
  readonly body: string;
  /** The client port of the TLS connection that carried the request: equal ports, same connection. */
  readonly localPort: number | undefined;
  json<T = unknown>(): T;
}

/**
 * Sequential requests over ONE kept-alive TLS connection (an `https.Agent` with `keepAlive` and a single
 * socket), for rules that are evaluated per connection or per request.
 */
export function keepAliveClient(pki: TestPkiManifest, port: number, credentials?: { cert: Buffer; key: Buffer }) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1, maxCachedSessions: 0, ca: readFileSync(pki.trustAnchors), ...credentials });
  function get(path: string): Promise<KeptResponse> {
    return new Promise((resolve, reject) => {
      const req = request({ agent, host: "127.0.0.1", servername: "localhost", port, path, headers: { "x-fapi-interaction-id": randomUUID() } }, (res) => {
        const localPort = res.socket.localPort;
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const body = Buffer.concat(chunks).toString("utf8");
          resolve({ status: res.statusCode ?? 0, body, localPort, json: <T>() => JSON.parse(body) as T });
        });
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end();
    });
  }
  return { get, close: () => agent.destroy() };
}
