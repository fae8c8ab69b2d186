import type { IncomingMessage } from "node:http";
import type { MiddlewareHandler } from "hono";
import type { PeerState } from "../connection/peer-state.js";
import type { Logger } from "../log/logger.js";
import { operatorReason } from "../log/reasons.js";
import { loggableText } from "../log/text.js";
import type { EdgeMetrics } from "../metrics/registry.js";
import type { EdgeEnv } from "./context.js";
import { answeredOnSocket, protocolOf } from "./early-rejection.js";
import { requestBodyBytes, requestFacts } from "./request-facts.js";

/** Longest deny reason kept on an access line (the operator typed it; `deny list` shows it whole). */
const MAX_DENY_REASON = 200;

/**
 * One access line per request (interaction id, protocol, identity, route, decision, reason code, status, latency,
 * the host and user agent as received, TLS version and cipher, body sizes, upstream time and status; the field list
 * is README "Logs and metrics") and the request metrics. Logs the path without its query (a query may carry a
 * token), and of the header fields only `Host` and `User-Agent`, bounded and sanitised.
 */
export function accessLog(deps: { logger: Logger; metrics: EdgeMetrics; listener: string; peer: (incoming: IncomingMessage, socket: object) => PeerState }): MiddlewareHandler<EdgeEnv> {
  return async function accessLog(c, next) {
    const start = performance.now();
    const incoming = c.env.incoming;
    // Read before the response: once a streamed response has finished and the client closed the connection,
    // `incoming.socket` is null.
    const socket = incoming.socket;
    const remoteAddress = socket.remoteAddress;
    const facts = requestFacts(incoming, socket);
    await next();
    const seconds = (performance.now() - start) / 1000;
    // When the HTTP layer had to answer the request itself (its body turned into garbage, or timed out), the client
    // received that answer, whatever the pipeline then made of the closed connection.
    const instead = answeredOnSocket(incoming);
    const rejection = instead ?? c.get("rejection");
    const status = instead?.status ?? c.get("upstreamStatus") ?? c.res.status;
    const route = c.get("route")?.config.name ?? "-";
    const peer = c.get("peer") ?? deps.peer(incoming, socket);
    const url = incoming.url ?? "/";
    const q = url.indexOf("?");
    const identity = peer.status === "accepted" ? peer.client.identity : undefined;
    const exchange = c.get("exchange");
    deps.logger.info(
      {
        kind: "access",
        listener: deps.listener,
        interactionId: c.get("interactionId") ?? c.res.headers.get("x-fapi-interaction-id"),
        method: incoming.method,
        protocol: protocolOf(incoming),
        path: q < 0 ? url : url.slice(0, q),
        host: facts.host,
        route,
        status,
        upstreamStatus: c.get("upstreamRefusedWith") ?? c.get("upstreamStatus"),
        latencyMs: Math.round(seconds * 1e6) / 1e3,
        upstreamMs: exchange?.upstreamMs === undefined ? undefined : Math.round(exchange.upstreamMs * 1e3) / 1e3,
        requestBytes: requestBodyBytes(incoming, c.get("requestBody"), exchange?.chunkedRequestBytes),
        responseBytes: c.get("responseBytes") ?? exchange?.responseBytes ?? 0,
        decision: rejection ? "rejected" : c.get("idempotency") === "replayed" ? "replayed" : "forwarded",
        idempotency: c.get("idempotency"),
        code: rejection?.code,
        reason: rejection ? operatorReason(rejection.code) : undefined,
        stage: rejection?.stage,
        certIndex: rejection?.certIndex,
        detail: rejection?.message,
        denyReason: loggableText(c.get("denied")?.reason, MAX_DENY_REASON),
        organisationId: identity?.organisationId,
        softwareStatementId: identity?.softwareStatementId,
        clientId: c.get("token")?.clientId,
        bindingReport: c.get("bindingReport"),
        thumbprint: peer.status === "absent" ? undefined : peer.status === "accepted" ? peer.client.thumbprint : peer.thumbprint,
        remoteAddress,
        tlsVersion: facts.tlsVersion,
        tlsCipher: facts.tlsCipher,
        userAgent: facts.userAgent,
      },
      "request",
    );
    deps.metrics.requests.inc({ route, status: String(status) });
    deps.metrics.requestDuration.observe({ route }, seconds);
    if (rejection) deps.metrics.rejections.inc({ stage: rejection.stage, code: rejection.code });
  };
}
