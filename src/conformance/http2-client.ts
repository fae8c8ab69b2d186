import type { IncomingHttpHeaders } from "node:http";
import { connect, constants, type ClientHttp2Session, type IncomingHttpHeaders as Http2Headers } from "node:http2";
import { Duplex } from "node:stream";
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from "node:tls";

/** What an HTTP/2 exchange returned, in the shape of an HTTP/1.1 one (`status` 0 and `error` when none came). */
export interface Http2Result {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: readonly (readonly [string, string])[];
  readonly body: Buffer;
  readonly error?: string;
}

/** RFC 9113 §8.2.2: fields HTTP/2 forbids, which Node's client refuses to send (a hostile client sends them anyway). */
const CONNECTION_SPECIFIC: ReadonlySet<string> = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"]);

/**
 * One HTTP/2 connection (ALPN h2) for one or several requests, opened on first use. Requests go through Node's
 * HTTP/2 client, except what it refuses to send and a probe must: connection-specific fields and repeated
 * single-value fields (two `Authorization`), which are appended to the request's header block as literal fields
 * (RFC 7541 §6.2.2, no indexing: the compression state is untouched).
 */
export class Http2Connection {
  private opened: Promise<{ session: ClientHttp2Session; socket: InjectingSocket; tls: TLSSocket }> | undefined;

  constructor(
    private readonly url: string,
    private readonly tls: ConnectionOptions,
  ) {}

  /**
   * One request. Never rejects: a refused handshake, a refused stream or a failed connection is an outcome (`status`
   * 0, `error` the TLS error code, `ECONNRESET`, or `RST_STREAM <code>`).
   */
  async exchange(o: { readonly method: string; readonly path: string; readonly headers: Record<string, string | string[]>; readonly body: string | Buffer | undefined; readonly timeoutMs: number }): Promise<Http2Result> {
    let open;
    try {
      open = await (this.opened ??= this.open());
    } catch (err) {
      return failure((err as NodeJS.ErrnoException).code ?? (err as Error).message);
    }
    const { sendable, injected } = split(o.headers);
    open.socket.inject(injected);
    return exchange(open.session, { ...o, headers: sendable }, () => open.tls.errored as NodeJS.ErrnoException | null);
  }

  close(): void {
    void this.opened?.then(({ session }) => session.destroy(), () => undefined);
  }

  private async open() {
    const tls = tlsConnect({ ...this.tls, ALPNProtocols: ["h2"] });
    await new Promise<void>((resolve, reject) => {
      tls.once("secureConnect", () => {
        tls.off("error", reject);
        resolve();
      });
      tls.once("error", reject);
    });
    if (tls.alpnProtocol !== "h2") {
      tls.destroy();
      throw Object.assign(new Error(`the server selected ${tls.alpnProtocol || "no protocol"} in ALPN, not h2`), { code: "ALPN_NOT_H2" });
    }
    tls.on("error", () => undefined);
    const socket = new InjectingSocket(tls);
    const session = connect(this.url, { createConnection: () => socket });
    session.on("error", () => undefined);
    return { session, socket, tls };
  }
}

function failure(error: string): Http2Result {
  return { status: 0, headers: {}, rawHeaders: [], body: Buffer.alloc(0), error };
}

/** What Node's client sends, and what is appended raw: connection-specific fields, and every value after a field's first. */
function split(headers: Record<string, string | string[]>): { sendable: Record<string, string | string[]>; injected: [string, string][] } {
  const sendable: Record<string, string | string[]> = {};
  const injected: [string, string][] = [];
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    const values = typeof value === "string" ? [value] : value;
    if (CONNECTION_SPECIFIC.has(lower) || (lower === "te" && values.some((v) => v !== "trailers"))) {
      for (const v of values) injected.push([lower, v]);
      continue;
    }
    if (values.length === 0) continue;
    sendable[lower] = values[0]!;
    for (const v of values.slice(1)) injected.push([lower, v]);
  }
  return { sendable, injected };
}

function exchange(
  session: ClientHttp2Session,
  o: { readonly method: string; readonly path: string; readonly headers: Record<string, string | string[]>; readonly body: string | Buffer | undefined; readonly timeoutMs: number },
  transportError: () => NodeJS.ErrnoException | null,
): Promise<Http2Result> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (r: Http2Result) => {
      if (settled) return;
      settled = true;
      resolve(r);
    };
    let stream;
    try {
      stream = session.request({ ...o.headers, ":method": o.method, ":path": o.path }, { endStream: o.body === undefined });
    } catch (err) {
      return settle(failure((err as NodeJS.ErrnoException).code ?? (err as Error).message));
    }
    const chunks: Buffer[] = [];
    let response: { status: number; headers: IncomingHttpHeaders; rawHeaders: [string, string][] } | undefined;
    stream.setTimeout(o.timeoutMs, () => stream.close(constants.NGHTTP2_CANCEL));
    stream.on("response", (headers: Http2Headers, _flags: number, raw?: string[]) => {
      const rawHeaders: [string, string][] = [];
      for (let i = 0; raw && i < raw.length; i += 2) if (!raw[i]!.startsWith(":")) rawHeaders.push([raw[i]!, raw[i + 1]!]);
      const plain: IncomingHttpHeaders = {};
      for (const [k, v] of Object.entries(headers)) if (!k.startsWith(":")) plain[k] = v as string | string[];
      response = { status: Number(headers[":status"]), headers: plain, rawHeaders };
    });
    stream.on("data", (c: Buffer) => chunks.push(c));
    // A stream reset after a complete response (RFC 9113 §8.1) closes without `end`, and without an error.
    const ended = () => {
      if (response) return settle({ ...response, body: Buffer.concat(chunks) });
      const lost = transportError();
      if (lost || session.destroyed) return settle(failure(lost?.code ?? "ECONNRESET"));
      settle(failure(`RST_STREAM ${stream.rstCode ?? "?"}`));
    };
    stream.once("end", ended);
    stream.once("close", ended);
    stream.once("error", () => ended());
    if (o.body !== undefined) stream.end(o.body);
  });
}

/** RFC 9113 §4.1 frame header fields, and §6.2/§6.10 flags. */
const HEADERS = 0x1;
const CONTINUATION = 0x9;
const END_HEADERS = 0x4;
const PREFACE_LENGTH = 24;

/**
 * The TLS socket under Node's HTTP/2 client, passing bytes through both ways; in the bytes the client writes, each
 * request's header block gets that request's literal fields appended (requests are sent in the order they are
 * made, one header block each).
 */
class InjectingSocket extends Duplex {
  private readonly queue: [string, string][][] = [];
  private pending = Buffer.alloc(0);
  private prefaceLeft = PREFACE_LENGTH;
  /** The fields for the header block being written, once its HEADERS frame came without END_HEADERS. */
  private current: [string, string][] | undefined;

  constructor(private readonly tls: TLSSocket) {
    super();
    tls.on("data", (chunk: Buffer) => {
      if (!this.push(chunk)) tls.pause();
    });
    tls.once("end", () => this.push(null));
    tls.once("close", () => this.destroy());
  }

  /** The fields to append to the next request's header block (none: an empty list). */
  inject(fields: [string, string][]): void {
    this.queue.push(fields);
  }

  override _read(): void {
    this.tls.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    let data = chunk;
    if (this.prefaceLeft > 0) {
      const preface = data.subarray(0, this.prefaceLeft);
      this.prefaceLeft -= preface.length;
      data = data.subarray(preface.length);
      if (!this.tls.write(preface) && data.length === 0) return void this.tls.once("drain", () => callback());
    }
    this.pending = Buffer.concat([this.pending, data]);
    const out: Buffer[] = [];
    while (this.pending.length >= 9) {
      const length = this.pending.readUIntBE(0, 3);
      if (this.pending.length < 9 + length) break;
      out.push(this.rewrite(this.pending.subarray(0, 9 + length)));
      this.pending = this.pending.subarray(9 + length);
    }
    if (out.length === 0 || this.tls.write(Buffer.concat(out))) callback();
    else this.tls.once("drain", () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.tls.end(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.tls.destroy();
    callback(error);
  }

  private rewrite(frame: Buffer): Buffer {
    const type = frame[3]!;
    const flags = frame[4]!;
    if (type === HEADERS) this.current = this.queue.shift() ?? [];
    if ((type !== HEADERS && type !== CONTINUATION) || (flags & END_HEADERS) === 0 || !this.current) return frame;
    const fields = this.current;
    this.current = undefined;
    if (fields.length === 0) return frame;
    const payload = Buffer.concat([frame.subarray(9), literalFields(fields)]);
    const head = Buffer.from(frame.subarray(0, 9));
    head.writeUIntBE(payload.length, 0, 3);
    return Buffer.concat([head, payload]);
  }
}

/** RFC 7541 §6.2.2 literal header fields without indexing, new names, no Huffman coding: any name or value, as is. */
export function literalFields(fields: readonly (readonly [string, string])[]): Buffer {
  return Buffer.concat(
    fields.flatMap(([name, value]) => {
      const n = Buffer.from(name, "latin1");
      const v = Buffer.from(value, "latin1");
      return [Buffer.from([0]), hpackInteger(n.length), n, hpackInteger(v.length), v];
    }),
  );
}

/** RFC 7541 §5.1 integer with a 7-bit prefix (a string length, H bit 0). */
function hpackInteger(n: number): Buffer {
  if (n < 127) return Buffer.from([n]);
  const out = [127];
  let rest = n - 127;
  while (rest >= 128) {
    out.push((rest & 127) | 128);
    rest >>= 7;
  }
  out.push(rest);
  return Buffer.from(out);
}
