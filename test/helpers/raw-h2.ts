import { readFileSync } from "node:fs";
import { connect, type TLSSocket } from "node:tls";
import { literalFields } from "../../src/conformance/http2-client.js";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";

/**
 * An HTTP/2 client that writes frames by hand (RFC 9113 §4), for what `node:http2` refuses to send: fields HTTP/2
 * forbids, resets at chosen moments, streams past the server's limits. Header blocks are HPACK literals without
 * indexing and without Huffman coding (RFC 7541 §6.2.2), so any field name or value can be sent as is.
 */

export const FRAME = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8 } as const;
export const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 } as const;
/** RFC 9113 §7 error codes. */
export const H2_ERROR = { NO_ERROR: 0, PROTOCOL_ERROR: 1, INTERNAL_ERROR: 2, CANCEL: 8, REFUSED_STREAM: 7, ENHANCE_YOUR_CALM: 11 } as const;

export interface Frame {
  readonly type: number;
  readonly flags: number;
  readonly stream: number;
  readonly payload: Buffer;
}

/** A header block of literal fields (RFC 7541 §6.2.2, new name, no Huffman). */
export const headerBlock = literalFields;

export function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream, 5);
  return Buffer.concat([head, payload]);
}

/** The request pseudo-header fields for `path` (GET unless given). */
export function requestFields(path: string, method = "GET"): [string, string][] {
  return [
    [":method", method],
    [":scheme", "https"],
    [":path", path],
    [":authority", "localhost"],
  ];
}

export interface RawH2 {
  readonly socket: TLSSocket;
  /** Every frame received so far, in order. */
  readonly frames: readonly Frame[];
  send(...frames: Buffer[]): void;
  /** HEADERS (with END_HEADERS; END_STREAM unless `open`). */
  headers(stream: number, fields: readonly (readonly [string, string])[], o?: { readonly open?: boolean }): void;
  rst(stream: number, code?: number): void;
  /** Resolves with the first frame (already received or to come) matching `match`; rejects after `ms`. */
  waitFor(match: (f: Frame) => boolean, ms?: number): Promise<Frame>;
  /** Resolves when the connection is closed. */
  readonly closed: Promise<void>;
  /** The DATA received on `stream`, as text. */
  body(stream: number): string;
  close(): void;
}

/**
 * A TLS connection offering only `h2`, the connection preface sent and the server's SETTINGS acknowledged (so its
 * limits are in force before the first stream; `acknowledge: false` leaves them unacknowledged), with the test
 * PKI's trust and optional client credentials.
 */
export async function rawH2(pki: TestPkiManifest, port: number, credentials?: { cert: Buffer; key: Buffer }, o: { readonly acknowledge?: boolean } = {}): Promise<RawH2> {
  const socket = connect({ host: "127.0.0.1", port, servername: "localhost", ca: readFileSync(pki.trustAnchors), ALPNProtocols: ["h2"], ...credentials });
  await new Promise<void>((resolve, reject) => {
    socket.once("secureConnect", () => resolve());
    socket.once("error", reject);
  });
  socket.on("error", () => undefined);
  const frames: Frame[] = [];
  const waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  let pending = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 9) {
      const length = pending.readUIntBE(0, 3);
      if (pending.length < 9 + length) break;
      const f: Frame = { type: pending[3]!, flags: pending[4]!, stream: pending.readUInt32BE(5) & 0x7fffffff, payload: pending.subarray(9, 9 + length) };
      pending = pending.subarray(9 + length);
      frames.push(f);
      for (const w of [...waiters]) {
        if (w.match(f)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(f);
        }
      }
    }
  });
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  const client: RawH2 = {
    socket,
    frames,
    closed,
    send: (...f) => void socket.write(Buffer.concat(f)),
    headers: (stream, fields, o = {}) => client.send(frame(FRAME.HEADERS, FLAG.END_HEADERS | (o.open ? 0 : FLAG.END_STREAM), stream, headerBlock(fields))),
    rst: (stream, code = H2_ERROR.CANCEL) => {
      const p = Buffer.alloc(4);
      p.writeUInt32BE(code);
      client.send(frame(FRAME.RST_STREAM, 0, stream, p));
    },
    waitFor: (match, ms = 5_000) =>
      new Promise((resolve, reject) => {
        const seen = frames.find(match);
        if (seen) return resolve(seen);
        const timer = setTimeout(() => reject(new Error(`no matching frame within ${ms} ms; got ${frames.map(describe).join(" ")}`)), ms);
        waiters.push({ match, resolve: (f) => (clearTimeout(timer), resolve(f)) });
      }),
    body: (stream) =>
      Buffer.concat(frames.filter((f) => f.type === FRAME.DATA && f.stream === stream).map((f) => f.payload)).toString("utf8"),
    close: () => socket.destroy(),
  };
  client.send(Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), frame(FRAME.SETTINGS, 0, 0));
  await client.waitFor((f) => f.type === FRAME.SETTINGS && (f.flags & FLAG.ACK) === 0);
  if (o.acknowledge === false) return client;
  client.send(frame(FRAME.SETTINGS, FLAG.ACK, 0));
  await client.waitFor((f) => f.type === FRAME.SETTINGS && (f.flags & FLAG.ACK) !== 0);
  return client;
}

/** RST_STREAM's or GOAWAY's error code. */
export function errorCode(f: Frame): number {
  return f.type === FRAME.GOAWAY ? f.payload.readUInt32BE(4) : f.payload.readUInt32BE(0);
}

/** Whether `f` ends `stream`: a RST_STREAM on it, or a frame on it with END_STREAM. */
export function ends(stream: number): (f: Frame) => boolean {
  return (f) => f.stream === stream && (f.type === FRAME.RST_STREAM || ((f.type === FRAME.DATA || f.type === FRAME.HEADERS) && (f.flags & FLAG.END_STREAM) !== 0));
}

function describe(f: Frame): string {
  const name = Object.entries(FRAME).find(([, v]) => v === f.type)?.[0] ?? String(f.type);
  return `${name}(${f.stream}${f.type === FRAME.RST_STREAM || f.type === FRAME.GOAWAY ? ` code=${errorCode(f)}` : ""})`;
}
