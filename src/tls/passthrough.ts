import { connect, createServer, type Server, type Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { Counter, type Registry } from "prom-client";
import type { Logger } from "../log/logger.js";
import { parseClientHello, type ClientHelloErrorCode } from "./client-hello.js";
import type { PassthroughConfig } from "./passthrough-config.js";
import { createSniRouter, type PassthroughRoute } from "./passthrough-routes.js";

/**
 * How a passthrough connection ended; one per connection, in the log line and the counter.
 * `forwarded`: the tunnel ran and both sides closed in order. The others name who or what ended it.
 */
export type PassthroughOutcome =
  | "forwarded"
  | "client-hello-invalid"
  | "client-hello-incomplete"
  | "client-hello-timeout"
  | "no-route"
  | "upstream-unreachable"
  | "upstream-timeout"
  | "idle-timeout"
  | "client-reset"
  | "upstream-reset"
  | "shutdown";

export interface PassthroughMetrics {
  readonly connections: Counter<"listener" | "outcome">;
  readonly bytes: Counter<"listener" | "direction">;
}

/**
 * The passthrough counters, registered on `registry` (once: a second call returns the same counters, so
 * several passthrough listeners can share them).
 */
export function createPassthroughMetrics(registry: Registry): PassthroughMetrics {
  const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
    (registry.getSingleMetric(name) as Counter<L> | undefined) ?? new Counter({ name, help, labelNames, registers: [registry] });
  return {
    connections: counter("ofb_edge_passthrough_connections_total", "Passthrough (SNI-routed TCP) connections, by how they ended.", ["listener", "outcome"]),
    bytes: counter("ofb_edge_passthrough_bytes_total", "Bytes relayed by passthrough listeners; in: from clients, out: to clients.", ["listener", "direction"]),
  };
}

/** A `net.Server` that also closes its connections on shutdown, like `http.Server`. */
export interface PassthroughServer extends Server {
  /** Closes the connections still sending their ClientHello; tunnels keep running. */
  closeIdleConnections(): void;
  /** Closes every connection, tunnels included (a tunnel has no request boundary to wait for). */
  closeAllConnections(): void;
  /** Hot reload: new connections use these routes and time-outs; open tunnels keep theirs. */
  reconfigure(config: PassthroughConfig): void;
}

export interface PassthroughOptions {
  /** The listener's name, in logs and metrics. */
  readonly name: string;
  readonly config: PassthroughConfig;
  readonly logger: Logger;
  readonly metrics?: PassthroughMetrics;
  /** Monotonic milliseconds, for durations (default `performance.now`). */
  readonly now?: () => number;
}

/** What the log line says about one connection; filled in as the connection goes. */
interface ConnectionRecord {
  sni: string | null;
  route: PassthroughRoute | null;
  outcome: PassthroughOutcome | null;
  code: ClientHelloErrorCode | string | undefined;
  detail: string | undefined;
}

/**
 * A TLS passthrough listener (docs/architecture.md §TLS listeners, mode `passthrough`): reads each connection's
 * ClientHello (bounded in time and size), picks the backend by SNI, connects, replays the bytes read and relays both
 * directions untouched, half-closes included. TLS is not terminated here, so no certificate is checked and no
 * identity is forwarded: the backend sees the client's own handshake. One `kind: "passthrough"` log line and one
 * count per connection; payload bytes are never logged.
 */
export function createPassthroughServer(options: PassthroughOptions): PassthroughServer {
  const { name, metrics } = options;
  const log = options.logger.child({ listener: name });
  const now = options.now ?? (() => performance.now());
  let current = { config: options.config, route: createSniRouter(options.config) };
  /** Every client socket, with how to end it and whether its tunnel is up (closeIdleConnections spares those). */
  const connections = new Map<Socket, { abort: (outcome: PassthroughOutcome) => void; tunnel: boolean }>();

  const server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    const { config, route } = current;
    const started = now();
    const remoteAddress = client.remoteAddress;
    const record: ConnectionRecord = { sni: null, route: null, outcome: null, code: undefined, detail: undefined };
    let upstream: Socket | null = null;
    let open = 1;
    let hello: Buffer = Buffer.alloc(0);

    const abort = (outcome: PassthroughOutcome, code?: string, detail?: string) => {
      if (record.outcome === null) Object.assign(record, { outcome, code, detail });
      client.destroy();
      upstream?.destroy();
    };
    const closed = () => {
      if (--open > 0) return;
      connections.delete(client);
      report(record, client, remoteAddress, now() - started);
    };
    const entry = { abort, tunnel: false };
    connections.set(client, entry);

    const helloTimer = setTimeout(() => abort("client-hello-timeout"), config.clientHelloTimeoutMs);
    const onEnd = () => abort("client-hello-incomplete");
    const onData = (chunk: Buffer) => {
      hello = hello.length === 0 ? chunk : Buffer.concat([hello, chunk]);
      const parsed = parseClientHello(hello);
      if (parsed.status === "incomplete") return;
      client.off("data", onData).off("end", onEnd).pause();
      clearTimeout(helloTimer);
      if (parsed.status === "invalid") return abort("client-hello-invalid", parsed.code, parsed.detail);
      record.sni = parsed.sni;
      record.route = route(parsed.sni);
      if (!record.route) return abort("no-route");
      entry.tunnel = true;
      upstream = tunnel(client, record.route, hello, config, abort);
      open++;
      upstream.once("close", closed);
    };
    client.on("data", onData).once("end", onEnd);
    client.on("error", (err: NodeJS.ErrnoException) => abort("client-reset", err.code));
    client.once("close", () => {
      clearTimeout(helloTimer);
      closed();
    });
  });

  /**
   * Connects to the backend, replays the ClientHello bytes, then relays both ways. `pipe` ends the other
   * side's writable when one side's readable ends (half-close, both sockets allowHalfOpen), and a socket whose
   * both directions are done destroys itself; an error or a time-out on either side destroys both.
   */
  function tunnel(client: Socket, to: PassthroughRoute, hello: Buffer, config: PassthroughConfig, abort: (outcome: PassthroughOutcome, code?: string) => void): Socket {
    const upstream = connect({ host: to.upstream.host, port: to.upstream.port, allowHalfOpen: true });
    upstream.setNoDelay(true);
    let connected = false;
    const connectTimer = setTimeout(() => abort("upstream-timeout"), config.connectTimeoutMs);
    upstream.once("close", () => clearTimeout(connectTimer));
    upstream.on("error", (err: NodeJS.ErrnoException) => abort(connected ? "upstream-reset" : "upstream-unreachable", err.code));
    upstream.once("connect", () => {
      connected = true;
      clearTimeout(connectTimer);
      upstream.write(hello);
      client.pipe(upstream);
      upstream.pipe(client);
      for (const socket of [client, upstream]) socket.setTimeout(config.idleTimeoutMs, () => abort("idle-timeout"));
    });
    return upstream;
  }

  function report(record: ConnectionRecord, client: Socket, remoteAddress: string | undefined, durationMs: number): void {
    const outcome = record.outcome ?? "forwarded";
    metrics?.connections.inc({ listener: name, outcome });
    metrics?.bytes.inc({ listener: name, direction: "in" }, client.bytesRead);
    metrics?.bytes.inc({ listener: name, direction: "out" }, client.bytesWritten);
    const level = outcome === "upstream-unreachable" || outcome === "upstream-timeout" ? "warn" : "info";
    log[level](
      {
        kind: "passthrough",
        outcome,
        code: record.code,
        detail: record.detail,
        sni: record.sni,
        route: record.route?.rule,
        upstream: record.route?.upstream.address,
        remoteAddress,
        bytesIn: client.bytesRead,
        bytesOut: client.bytesWritten,
        durationMs: Math.round(durationMs * 1e3) / 1e3,
      },
      "passthrough connection",
    );
  }

  return Object.assign(server, {
    closeIdleConnections(): void {
      for (const c of connections.values()) if (!c.tunnel) c.abort("shutdown");
    },
    closeAllConnections(): void {
      for (const c of connections.values()) c.abort("shutdown");
    },
    reconfigure(config: PassthroughConfig): void {
      current = { config, route: createSniRouter(config) };
    },
  });
}
