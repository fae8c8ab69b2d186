import { createServer, type AddressInfo, type Server } from "node:net";

/**
 * `server.listen` as a promise that rejects on a bind error (EADDRINUSE, EACCES…) instead of leaving an
 * unhandled "error" event; resolves with the port actually bound (for port 0). `what` names the listener in
 * the error, e.g. "listener 'edge'".
 */
export function listen(server: Server, port: number, host: string, what?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException) =>
      reject(what === undefined ? err : new Error(`${what} cannot listen on ${host}:${port}: ${err.code ?? err.message}`, { cause: err }));
    server.once("error", failed);
    server.listen(port, host, () => {
      server.off("error", failed);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** A localhost TCP port nothing listens on (bound, then released). */
export async function freeTcpPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server, 0, "127.0.0.1");
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}
