import { createServer } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";

/** What Node's HTTP/1.1 parser (llhttp) made of the bytes one connection sent. */
export interface ParsedHead {
  /** `rawHeaders` of every request parsed on the connection, in order. */
  readonly requests: string[][];
  /** Parser errors (`clientError` codes), if any. */
  readonly errors: string[];
}

/** `GET / HTTP/1.1`, `Host: x`, then each `name: value` pair, CRLF-terminated, as Latin-1 bytes (how Node writes header values). */
export function requestHead(pairs: readonly string[]): Buffer {
  let head = "GET / HTTP/1.1\r\nHost: x\r\n";
  for (let i = 0; i < pairs.length; i += 2) head += `${pairs[i]}: ${pairs[i + 1]}\r\n`;
  return Buffer.from(`${head}\r\n`, "latin1");
}

/**
 * A real HTTP server on 127.0.0.1:0 that records what its parser sees. `parse(bytes)` sends the bytes over
 * a fresh TCP connection, half-closes it, and resolves when the server has answered every request it
 * parsed and closed: a second request smuggled inside a value would show up as a second entry.
 */
export async function startHeadParser() {
  const seen = new Map<number, ParsedHead>();
  // Profiles may send long values (a URL-encoded PEM chain): lift Node's 16 KiB default.
  const server = createServer({ maxHeaderSize: 1 << 20 }, (req, res) => {
    seen.get(req.socket.remotePort ?? -1)?.requests.push(req.rawHeaders);
    res.end();
  });
  server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    // Node's server hands its own net.Socket to clientError (typed Duplex for custom transports).
    seen.get((socket as Socket).remotePort ?? -1)?.errors.push(err.code ?? err.message);
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  function parse(bytes: Buffer): Promise<ParsedHead> {
    return new Promise((resolve, reject) => {
      const result: ParsedHead = { requests: [], errors: [] };
      const socket = connect(port, "127.0.0.1");
      let local = -1;
      socket.on("connect", () => {
        local = socket.localPort ?? -1;
        seen.set(local, result);
        socket.end(bytes);
      });
      socket.resume();
      // A reset after a parser error is expected; the error itself is in `result.errors`.
      socket.on("error", (err: NodeJS.ErrnoException) => {
        if (err.code !== "ECONNRESET" && err.code !== "EPIPE") reject(err);
      });
      socket.on("close", () => {
        seen.delete(local);
        resolve(result);
      });
    });
  }

  return {
    parse,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
