import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** What one path answers. */
export type CrlRoute =
  /** `delayMs`: answers that much later (a real repository's latency, so a test can see who waits for it). */
  | { readonly body: Uint8Array; readonly status?: number; readonly delayMs?: number }
  | { readonly status: number }
  /** Never answers (a time-out). */
  | { readonly hang: true }
  /** Declares the full length, sends `sent` bytes, then drops the connection. */
  | { readonly body: Uint8Array; readonly cutAfter: number };

/** A plain-HTTP CRL repository on 127.0.0.1 with per-path answers and a request count per path. */
export async function startCrlServer() {
  const routes = new Map<string, CrlRoute>();
  const hits = new Map<string, number>();
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const route = routes.get(path) ?? { status: 404 };
    if ("hang" in route) return void hanging.add(res);
    if ("cutAfter" in route) {
      res.writeHead(200, { "content-type": "application/pkix-crl", "content-length": route.body.length });
      res.write(route.body.subarray(0, route.cutAfter), () => res.socket?.destroy());
      return;
    }
    if (!("body" in route)) return void res.writeHead(route.status).end();
    const send = () => void res.writeHead(route.status ?? 200, { "content-type": "application/pkix-crl", "content-length": route.body.length }).end(route.body);
    if (route.delayMs) setTimeout(send, route.delayMs);
    else send();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: (path: string) => `${base}${path}`,
    serve: (path: string, route: CrlRoute) => void routes.set(path, route),
    hits: (path: string) => hits.get(path) ?? 0,
    close: async () => {
      for (const res of hanging) res.socket?.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type CrlServer = Awaited<ReturnType<typeof startCrlServer>>;
