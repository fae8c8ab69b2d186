import type { AddressInfo } from "node:net";
import type { Server } from "node:https";
import { createApp } from "./app.js";
import type { Config } from "./config/schema.js";
import { createPeerEvaluator } from "./connection/peer-state.js";
import type { Route } from "./http/route.js";
import type { Logger } from "./log/logger.js";
import type { EdgeMetrics } from "./metrics/registry.js";
import { createChainPolicy } from "./pki/policy.js";
import { createUpstreams } from "./proxy/upstream.js";
import { createListener } from "./tls/listener.js";
import { readTlsMaterial } from "./tls/material.js";
import { peerState } from "./tls/peer.js";

export interface EdgeDeps {
  readonly logger: Logger;
  readonly metrics: EdgeMetrics;
  /** The injected clock: certificate validity and error timestamps. */
  readonly clock: () => Date;
  /** Where the configuration came from, for error messages. */
  readonly configFile: string;
}

export interface RunningListener {
  readonly name: string;
  readonly server: Server;
  readonly port: number;
  readonly host: string;
}

export interface RunningEdge {
  readonly listeners: readonly RunningListener[];
  /** Stops accepting connections, lets in-flight requests finish, then closes upstream pools. */
  close(): Promise<void>;
}

/**
 * Builds every listener of a validated configuration and starts listening. All files are read and checked
 * before the first port is opened, so a bad file never leaves a half-started edge.
 */
export async function startEdge(config: Config, deps: EdgeDeps): Promise<RunningEdge> {
  const prepared = config.listeners.map((l, i) => ({ config: l, ...readTlsMaterial(l, i, deps.configFile) }));
  const upstreams = createUpstreams(config.routes, config.proxy);
  const routesByName = new Map(config.routes.map((r) => [r.name, r]));

  const servers = prepared.map(({ config: l, material, anchors }) => {
    const policy = createChainPolicy({
      anchors,
      minRsaBits: config.policy.minRsaBits,
      allowedIssuers: config.policy.allowedIssuers ? new Set(config.policy.allowedIssuers.map((f) => f.replace(/:/g, "").toLowerCase())) : undefined,
      requireIntermediate: config.policy.requireIntermediate,
      now: () => deps.clock().getTime(),
    });
    const evaluator = createPeerEvaluator({ evaluateChain: policy, allowOpenInsurance: config.policy.allowOpenInsurance });
    const peer = (socket: object) => peerState(socket, evaluator.evaluate);
    const routes: Route[] = (l.routes ?? config.routes.map((r) => r.name)).map((name) => ({
      config: routesByName.get(name)!,
      upstream: upstreams.byRoute.get(name)!,
    }));
    const app = createApp({ listener: l.name, routes, peer, clock: deps.clock, logger: deps.logger, metrics: deps.metrics, proxy: config.proxy });
    const server = createListener({ config: l, material, app, peer, clock: deps.clock, logger: deps.logger, metrics: deps.metrics });
    return { l, server };
  });

  const listeners: RunningListener[] = [];
  try {
    for (const { l, server } of servers) {
      await new Promise<void>((resolve, reject) => {
        const failed = (err: NodeJS.ErrnoException) =>
          reject(new Error(`listener '${l.name}' cannot listen on ${l.host}:${l.port}: ${err.code ?? err.message}`, { cause: err }));
        server.once("error", failed);
        server.listen(l.port, l.host, () => {
          server.off("error", failed);
          resolve();
        });
      });
      listeners.push({ name: l.name, server, host: l.host, port: (server.address() as AddressInfo).port });
      deps.logger.info({ kind: "lifecycle", listener: l.name, host: l.host, port: (server.address() as AddressInfo).port, mode: l.mode }, "listening");
    }
  } catch (cause) {
    await Promise.all(listeners.map((x) => closeServer(x.server)));
    await upstreams.close();
    throw cause;
  }

  return {
    listeners,
    close: async () => {
      await Promise.all(listeners.map((x) => closeServer(x.server)));
      await upstreams.close();
    },
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
