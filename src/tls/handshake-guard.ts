import type { Socket } from "node:net";
import type { Server as TlsServer, TLSSocket } from "node:tls";
import type { Logger } from "../log/logger.js";
import type { EdgeMetrics } from "../metrics/registry.js";

/** The reason label and log code of a connection refused because its source has too many handshakes open. */
export const HANDSHAKES_PER_SOURCE_EXCEEDED = "TLS_HANDSHAKES_PER_SOURCE_EXCEEDED";

/** At most one log line per listener this often about refused connections (a flood is one line, with a count). */
const REFUSAL_LOG_INTERVAL_MS = 10_000;

export interface HandshakeGuard {
  /** The connection finished its handshake (`secureConnection`): it no longer counts against its source. */
  secured(socket: TLSSocket): void;
  /** Closes every connection still in its handshake (shutdown: there is no request on them to finish). */
  closePending(): void;
  /** Connections still in their TLS handshake. */
  pending(): number;
}

/**
 * Caps the TLS handshakes one source address may have unfinished at a time. Each costs the edge a socket and a
 * TLS state until it completes or `handshakeTimeout` ends it, so a single client opening connections it never
 * finishes (or finishes a byte at a time) cannot hold many of them. A connection over the cap is closed before
 * any TLS byte is read, counted (`ofb_edge_tls_handshake_failures_total{reason="TLS_HANDSHAKES_PER_SOURCE_EXCEEDED"}`)
 * and logged, at most one line per 10 s with how many were refused meanwhile.
 *
 * It gates the server's `connection` event: the TLS layer only ever sees admitted connections.
 */
export function guardHandshakes(server: TlsServer, o: { readonly listener: string; readonly maxPerSource: number; readonly logger: Logger; readonly metrics: EdgeMetrics; readonly now?: () => number }): HandshakeGuard {
  if (!Number.isInteger(o.maxPerSource) || o.maxPerSource < 1) throw new TypeError("maxPerSource must be a positive integer");
  const now = o.now ?? Date.now;
  const bySource = new Map<string, number>();
  /** Unfinished handshakes by `address:port`, which the TLS socket shares with the TCP connection it wraps. */
  const unfinished = new Map<string, { readonly raw: Socket; readonly release: () => void }>();
  let lastLog = Number.NEGATIVE_INFINITY;
  let refusedSinceLog = 0;

  const downstream = server.listeners("connection") as ((socket: Socket) => void)[];
  server.removeAllListeners("connection");
  server.on("connection", (raw: Socket) => {
    const source = raw.remoteAddress ?? "unknown";
    const open = bySource.get(source) ?? 0;
    if (open >= o.maxPerSource) {
      raw.destroy();
      refuse(source, open);
      return;
    }
    bySource.set(source, open + 1);
    const key = `${source}:${raw.remotePort}`;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      unfinished.delete(key);
      const left = (bySource.get(source) ?? 1) - 1;
      if (left > 0) bySource.set(source, left);
      else bySource.delete(source);
    };
    unfinished.set(key, { raw, release });
    raw.once("close", release);
    for (const listener of downstream) listener.call(server, raw);
  });

  function refuse(source: string, open: number): void {
    o.metrics.handshakeFailures.inc({ listener: o.listener, reason: HANDSHAKES_PER_SOURCE_EXCEEDED });
    refusedSinceLog++;
    const t = now();
    if (t - lastLog < REFUSAL_LOG_INTERVAL_MS) return;
    o.logger.warn(
      {
        kind: "tls",
        event: "connection-refused",
        code: HANDSHAKES_PER_SOURCE_EXCEEDED,
        reason: `too many unfinished TLS handshakes from one source (listeners[].http.maxHandshakesPerSource: ${o.maxPerSource})`,
        remoteAddress: source,
        unfinished: open,
        refused: refusedSinceLog,
        sinceMs: Number.isFinite(lastLog) ? t - lastLog : undefined,
      },
      "connection refused",
    );
    lastLog = t;
    refusedSinceLog = 0;
  }

  return {
    secured(socket) {
      unfinished.get(`${socket.remoteAddress ?? "unknown"}:${socket.remotePort}`)?.release();
    },
    closePending() {
      for (const { raw } of [...unfinished.values()]) raw.destroy();
    },
    pending: () => unfinished.size,
  };
}
