import { getRequestListener } from "@hono/node-server";
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import type { Hono } from "hono";
import type { TlsListenerConfig } from "../config/schema.js";
import type { PeerState } from "../connection/peer-state.js";
import { EdgeError, type EdgeErrorCode } from "../errors.js";
import { createClientErrorHandler } from "../http/client-error.js";
import type { EdgeEnv } from "../http/context.js";
import { createEarlyRejections } from "../http/early-rejection.js";
import { createHttp2Requests } from "../http/h2-requests.js";
import { createInFlight } from "../http/in-flight.js";
import { INTERACTION_ID, readInteractionId } from "../http/interaction-id.js";
import { JSON_UTF8, ofbErrorBody } from "../http/ofb-error.js";
import { methodNotAllowed, requestSyntaxProblem } from "../http/request-syntax.js";
import type { Logger } from "../log/logger.js";
import type { EdgeMetrics } from "../metrics/registry.js";
import { operatorReason } from "../log/reasons.js";
import { mapVerifyError } from "../pki/openssl-errors.js";
import { checkValidity } from "../pki/policy.js";
import type { RevocationService } from "../revocation/service.js";
import { guardHandshakes } from "./handshake-guard.js";
import { createHttp2Layer, routeByAlpn } from "./http2.js";
import { bindConnection, verifyError } from "./peer.js";
import { refuseSessionTickets, serverTlsOptions, type TlsMaterial } from "./profile.js";

export interface ListenerDeps {
  readonly config: TlsListenerConfig;
  readonly material: TlsMaterial;
  readonly app: Hono<EdgeEnv>;
  readonly peer: (socket: object) => PeerState;
  readonly clock: () => Date;
  readonly logger: Logger;
  readonly metrics: EdgeMetrics;
  /**
   * Revocation checks: a strict listener closes a connection whose chain is revoked. The handshake check is
   * synchronous: an OCSP answer already held decides, otherwise the CRL does. When a CRL the chain needs is being
   * obtained for the first time, a strict listener holds the connection's requests until it is in (bounded by
   * the service), then decides; a permissive one leaves that to the certificate stage, which waits the same way.
   */
  readonly revocation?: RevocationService;
}

/** A running HTTPS listener: its server, a reload hook, and a shutdown bounded in time. */
export interface Listener {
  readonly server: Server;
  swap(app: Hono<EdgeEnv>, peer: (socket: object) => PeerState): void;
  /**
   * Keeps accepting, but every response from now on closes its connection (`Connection: close`): the first phase of a
   * shutdown, while load balancers stop sending, so that keep-alive clients reconnect elsewhere before `close`.
   */
  stopKeepAlive(): void;
  /**
   * Stops accepting connections and drains: handshakes still in progress and idle connections are closed at once,
   * requests in flight finish (their responses say `Connection: close`; HTTP/2 connections get a GOAWAY and close
   * after their last stream), and whatever is still open at `deadline` (epoch ms) is closed then. Resolves once
   * every connection is closed.
   */
  close(deadline: number): Promise<void>;
}

/**
 * An HTTPS listener with the OFB/FAPI TLS profile (tls/profile.ts) serving the app through
 * `@hono/node-server`, over HTTP/1.1 and, when `http.protocols` lists h2, HTTP/2 (ALPN). Each connection's peer state is computed once, at `secureConnection`, before any
 * request is read; a `strict` listener closes a connection whose certificate is absent or fails policy,
 * and every handshake failure is logged with its reason and counted. Handshakes are bounded in time
 * (`http.handshakeTimeoutMs`) and in number per source address (`http.maxHandshakesPerSource`).
 */
export function createListener(deps: ListenerDeps): Listener {
  const { config, logger, metrics } = deps;
  const http = config.http;
  const log = logger.child({ listener: config.name });
  const rejections = createEarlyRejections({ logger: log, metrics, clock: deps.clock, lingerMs: http.keepAliveTimeoutMs });
  // @hono/node-server refuses some requests before the app runs (a Host that is not a host, no Host): those are
  // edge rejections too, answered in the OFB format and logged like any other.
  let peer = deps.peer;
  const listenerFor = (app: Hono<EdgeEnv>) => getRequestListener(app.fetch, {
    autoCleanupIncoming: false,
    errorHandler: () => {
      const e = new EdgeError("REQUEST_MALFORMED", "http", "the request target or Host header cannot be read");
      const id = randomUUID();
      metrics.rejections.inc({ stage: "http", code: e.code });
      log.info({ kind: "access", interactionId: id, decision: "rejected", code: e.code, stage: "http", status: e.status }, "request");
      return new Response(ofbErrorBody(e, deps.clock()), { status: e.status, headers: { "content-type": JSON_UTF8, "cache-control": "no-store", [INTERACTION_ID]: id } });
    },
  });
  // A reload swaps the pipeline for requests that start after it; requests in flight finish on the old one.
  let handle = listenerFor(deps.app);
  const inFlight = createInFlight();
  // Strict connections whose revocation verdict waits for a first CRL: their requests wait for it too.
  const deciding = new WeakMap<object, Promise<void>>();
  /** Connections past their handshake: the HTTP layer's, and the ones shutdown closes at its deadline. */
  const open = new Set<TLSSocket>();
  /** Responses not yet finished: when the listener drains, each one closes its connection. */
  const unfinished = new Set<ServerResponse>();
  let draining = false;
  /** Responses close their connection (shutdown has begun), though the listener still accepts. */
  let closeAfterResponse = false;
  const server = createServer(
    {
      ...serverTlsOptions(deps.material, config.mode),
      // RFC 7301: offered in this order of preference; a client that offers none of them is refused in the handshake.
      ALPNProtocols: [...http.protocols],
      maxHeaderSize: http.maxHeaderBytes,
      requireHostHeader: false,
      handshakeTimeout: http.handshakeTimeoutMs,
      // Node checks the header and request time-outs on this interval (30 s by default): a tenth of the shorter
      // one, so that a 408 comes at the configured time, not up to 30 s later.
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(Math.min(http.headersTimeoutMs, http.requestTimeoutMs) / 10))),
    },
    (req, res) => {
      unfinished.add(res);
      res.once("close", () => {
        unfinished.delete(res);
        // While draining, a connection that has answered its last request is closed rather than kept alive.
        if (draining) server.closeIdleConnections();
      });
      // Pipelined requests are served one after the other, in order (see http/in-flight.ts).
      inFlight.admit(req, res, () => {
        // Connections close after their current request once shutdown has begun.
        if ((draining || closeAfterResponse) && !res.headersSent) res.setHeader("connection", "close");
        // Refused here, where the headers can still be read, so that the client's interaction id is echoed
        // (FAPI 1 Part 1 §6.2.1) — @hono/node-server's own refusals cannot see it.
        const problem = requestSyntaxProblem(req);
        if (problem) {
          rejections.answer(req, res, problem, readInteractionId(req.headers[INTERACTION_ID]).id);
          return;
        }
        const decision = deciding.get(req.socket);
        if (!decision) return void handle(req, res);
        // A refused connection is destroyed by then: its request goes nowhere, as if refused at the handshake.
        void decision.then(() => {
          if (!req.socket.destroyed) void handle(req, res);
        });
      });
    },
  );
  // A client that half-closes after its request still gets the answer: Node ends the response side as soon as the
  // client half-closes unless told otherwise; this way it sends the responses owed and then closes (`_last`), as
  // RFC 9112 §9.6 expects of a server. Connections become half-open only once their handshake is done (below): a
  // half-closed handshake is over.
  (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  refuseSessionTickets(server);
  server.keepAliveTimeout = http.keepAliveTimeoutMs;
  server.headersTimeout = http.headersTimeoutMs;
  server.requestTimeout = http.requestTimeoutMs;
  const handshakes = guardHandshakes(server, { listener: config.name, maxPerSource: http.maxHandshakesPerSource, logger: log, metrics });
  // HTTP/2 and HTTP/1.1 share the TLS server, so the handshake, its profile, its time-out and guard, and the
  // connection checks below are the same for both; only the connection's protocol differs, decided by ALPN. The
  // https.Server keeps its HTTP/1.1 layer untouched and sees only the connections that did not negotiate h2;
  // those that did go to a node:http2 server that never listens. (A single http2 secure server with `allowHTTP1`
  // would also speak both, but its HTTP/1.1 side lacks what the listener relies on: the connection checks of
  // header and request time-outs, idle-connection closing on drain, half-close handling and `clientError`.)
  const h2 = http.protocols.includes("h2")
    ? createHttp2Layer({
        maxHeaderBytes: http.maxHeaderBytes,
        maxConcurrentStreams: http.http2.maxConcurrentStreams,
        maxSessionMemoryMb: http.http2.maxSessionMemoryMb,
        idleTimeoutMs: http.keepAliveTimeoutMs,
        requestTimeoutMs: http.requestTimeoutMs,
        logger: log,
        ...createHttp2Requests({
          rejections,
          maxHeaderBytes: http.maxHeaderBytes,
          requestTimeoutMs: http.requestTimeoutMs,
          waitFor: (connection) => deciding.get(connection),
          serve: (req, res) => void handle(req, res),
        }),
      })
    : null;
  routeByAlpn(server, h2);

  // Prepended so that it runs before the HTTP layer attaches to the socket. On a strict listener only
  // chains OpenSSL accepted get here; OFB policy (and identity) failures are closed now.
  server.prependListener("secureConnection", (socket: TLSSocket) => {
    handshakes.secured(socket);
    bindConnection(socket);
    socket.allowHalfOpen = true;
    open.add(socket);
    socket.once("close", () => open.delete(socket));
    // Behind a trusted terminator the connection's own certificate (if any) only says which terminator it is.
    if (config.mode === "trusted-proxy") {
      metrics.connections.inc({ listener: config.name, result: socket.authorized ? "proxy-verified" : "proxy" });
      return;
    }
    const state = peer(socket);
    metrics.connections.inc({ listener: config.name, result: state.status });
    const nowMs = deps.clock().getTime();
    const failure = connectionFailure(state, nowMs, deps.revocation);
    if (failure === "pending") {
      if (config.mode !== "strict" || state.status !== "accepted" || !deps.revocation) return;
      const { revocation } = deps;
      const chain = state.client.verdict.chain;
      const decision = revocation.prepare(chain, nowMs).then(() => {
        deciding.delete(socket);
        const verdict = revocation.check(chain, deps.clock().getTime(), { handshake: true });
        if (!verdict.ok) refuse(socket, state, { code: verdict.code, rule: "revocation", certIndex: verdict.certIndex, detail: verdict.detail });
      });
      deciding.set(socket, decision);
      return;
    }
    if (!failure || (state.status === "absent" && config.mode === "permissive")) return;
    refuse(socket, state, failure);
  });

  /** Logs a client certificate refused at connection time; a strict listener closes the connection. */
  function refuse(socket: TLSSocket, state: PeerState, failure: ConnectionFailure): void {
    if (config.mode === "strict") metrics.handshakeFailures.inc({ listener: config.name, reason: failure.code });
    log.warn(
      {
        kind: "tls",
        event: "client-certificate-rejected",
        code: failure.code,
        reason: operatorReason(failure.code),
        rule: failure.rule,
        certIndex: failure.certIndex,
        detail: failure.detail,
        authorizationError: verifyError(socket),
        thumbprint: state.status === "accepted" ? state.client.thumbprint : state.status === "rejected" ? state.thumbprint : undefined,
        remoteAddress: socket.remoteAddress,
        action: config.mode === "strict" ? "connection closed" : "routes decide",
      },
      "client certificate rejected",
    );
    if (config.mode === "strict") socket.destroy();
  }

  // A handshake that failed in OpenSSL (protocol version, cipher, no certificate on a strict listener), did not
  // finish within http.handshakeTimeoutMs, or a chain Node dropped after OpenSSL's path validation failed
  // (`authorizationError`, strict listeners).
  // Prepended: https.Server's own listener hands the socket to `clientError`, which closes it.
  server.prependListener("tlsClientError", (err: NodeJS.ErrnoException, socket: TLSSocket) => {
    const authorizationError = verifyError(socket);
    const reason = authorizationError ? mapVerifyError(authorizationError, 0).code : (err.code ?? "UNKNOWN");
    metrics.handshakeFailures.inc({ listener: config.name, reason });
    log.info(
      {
        kind: "tls",
        event: "handshake-failed",
        code: reason,
        reason: operatorReason(reason),
        authorizationError,
        error: err.code,
        message: authorizationError ? undefined : err.message.replace(/^[0-9A-F]+:error:/, "").split(":").slice(0, 4).join(":"),
        remoteAddress: socket.remoteAddress,
      },
      "TLS handshake failed",
    );
  });

  // https.Server hands TLS handshake failures to `clientError` too: those sockets never reached HTTP and are
  // closed (answering them in HTTP would keep a socket that cannot carry it open, and the handshake time-out with it).
  server.on(
    "clientError",
    createClientErrorHandler({
      isHttp: (socket) => open.has(socket as TLSSocket),
      inFlight,
      rejections,
      maxHeaderBytes: http.maxHeaderBytes,
      headersTimeoutMs: http.headersTimeoutMs,
      requestTimeoutMs: http.requestTimeoutMs,
      lingerMs: http.keepAliveTimeoutMs,
    }),
  );
  // RFC 9110 §9.3.6: the edge is not a tunnel. Node hands a CONNECT over as a bare socket, which would otherwise be
  // closed without an answer.
  server.on("connect", (req: IncomingMessage, socket: Duplex) => {
    rejections.answerOnSocket(socket, methodNotAllowed("CONNECT"), readInteractionId(req.headers[INTERACTION_ID]).id);
  });

  return {
    server,
    swap(app, nextPeer) {
      handle = listenerFor(app);
      peer = nextPeer;
    },
    stopKeepAlive() {
      closeAfterResponse = true;
      for (const res of unfinished) if (!res.headersSent) res.setHeader("connection", "close");
    },
    close(deadline) {
      draining = true;
      for (const res of unfinished) if (!res.headersSent) res.setHeader("connection", "close");
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      handshakes.closePending();
      server.closeIdleConnections();
      h2?.close();
      const timer = setTimeout(() => {
        server.closeAllConnections();
        for (const socket of open) socket.destroy();
      }, Math.max(0, deadline - Date.now()));
      return closed.finally(() => clearTimeout(timer));
    },
  };
}

interface ConnectionFailure {
  readonly code: EdgeErrorCode;
  readonly rule: string;
  readonly certIndex: number | undefined;
  readonly detail: string;
}

/**
 * What closes a strict connection: no certificate, a failed verdict, a chain outside its validity now, or a
 * revoked chain; "pending" while a CRL the chain needs is obtained for the first time (not a verdict yet).
 */
function connectionFailure(state: PeerState, nowMs: number, revocation?: RevocationService): ConnectionFailure | "pending" | null {
  if (state.status === "absent") return { code: "CERT_REQUIRED", rule: "certificate-present", certIndex: undefined, detail: "no client certificate was presented" };
  if (state.status === "rejected") return state.failure;
  const invalid = checkValidity(state.client.verdict, nowMs);
  if (invalid || !revocation) return invalid;
  const verdict = revocation.check(state.client.verdict.chain, nowMs, { handshake: true });
  if (verdict.ok) return null;
  return verdict.pending ? "pending" : { code: verdict.code, rule: "revocation", certIndex: verdict.certIndex, detail: verdict.detail };
}
