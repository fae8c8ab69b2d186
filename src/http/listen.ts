import type { AddressInfo, Server } from "node:net";

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
