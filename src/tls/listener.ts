import { getRequestListener } from "@hono/node-server";
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:https";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import type { Hono } from "hono";
import type { TlsListenerConfig } from "../config/schema.js";
import type { PeerState } from "../connection/peer-state.js";
import { EdgeError, type EdgeErrorCode } from "../errors.js";
import type { EdgeEnv } from "../http/context.js";
import { INTERACTION_ID, readInteractionId } from "../http/interaction-id.js";
import { JSON_UTF8, ofbErrorBody } from "../http/ofb-error.js";
import type { Logger } from "../log/logger.js";
import type { EdgeMetrics } from "../metrics/registry.js";
import { operatorReason } from "../log/reasons.js";
import { mapVerifyError } from "../pki/openssl-errors.js";
import { checkValidity } from "../pki/policy.js";
import type { RevocationService } from "../revocation/service.js";
import { verifyError } from "./peer.js";
import { serverTlsOptions, type TlsMaterial } from "./profile.js";

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

/**
 * An HTTPS listener with the OFB/FAPI TLS profile (tls/profile.ts) serving the app through
 * `@hono/node-server`. Each connection's peer state is computed once, at `secureConnection`, before any
 * request is read; a `strict` listener closes a connection whose certificate is absent or fails policy,
 * and every handshake failure is logged with its reason and counted.
 */
export function createListener(deps: ListenerDeps): { server: Server; swap(app: Hono<EdgeEnv>, peer: (socket: object) => PeerState): void } {
  const { config, logger, metrics } = deps;
  const log = logger.child({ listener: config.name });
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
  // Strict connections whose revocation verdict waits for a first CRL: their requests wait for it too.
  const deciding = new WeakMap<object, Promise<void>>();
  const server = createServer({ ...serverTlsOptions(deps.material, config.mode), maxHeaderSize: config.http.maxHeaderBytes, requireHostHeader: false }, (req, res) => {
    // A backslash in the request target is refused here, where the headers can still be read, so that the
    // client's interaction id is echoed (FAPI 1 Part 1 §6.2.1) — @hono/node-server's own refusal cannot see it.
    if (req.url?.includes("\\")) {
      const e = new EdgeError("REQUEST_PATH_INVALID", "http", "control characters, spaces or backslashes in the request target");
      const { id } = readInteractionId(req.headers[INTERACTION_ID]);
      metrics.rejections.inc({ stage: "http", code: e.code });
      log.info({ kind: "access", interactionId: id, decision: "rejected", code: e.code, stage: "http", status: e.status }, "request");
      const body = ofbErrorBody(e, deps.clock());
      res.writeHead(e.status, { "content-type": JSON_UTF8, "cache-control": "no-store", "content-length": Buffer.byteLength(body), [INTERACTION_ID]: id, ...(req.complete ? {} : { connection: "close" }) });
      res.end(body);
      return;
    }
    const decision = deciding.get(req.socket);
    if (!decision) return void handle(req, res);
    // A refused connection is destroyed by then: its request goes nowhere, as if refused at the handshake.
    void decision.then(() => {
      if (!req.socket.destroyed) void handle(req, res);
    });
  });
  server.keepAliveTimeout = config.http.keepAliveTimeoutMs;
  server.headersTimeout = config.http.headersTimeoutMs;
  server.requestTimeout = config.http.requestTimeoutMs;

  // Prepended so that it runs before the HTTP layer attaches to the socket. On a strict listener only
  // chains OpenSSL accepted get here; OFB policy (and identity) failures are closed now.
  server.prependListener("secureConnection", (socket: TLSSocket) => {
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

  // A handshake that failed in OpenSSL (protocol version, cipher, no certificate on a strict listener) or a
  // chain Node dropped after OpenSSL's path validation failed (`authorizationError`, strict listeners).
  server.on("tlsClientError", (err: NodeJS.ErrnoException, socket: TLSSocket) => {
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

  server.on("clientError", (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const code: EdgeErrorCode = err.code === "HPE_HEADER_OVERFLOW" ? "REQUEST_HEADERS_TOO_LARGE" : "REQUEST_MALFORMED";
    const interactionId = randomUUID();
    const e = new EdgeError(code, "http", code === "REQUEST_HEADERS_TOO_LARGE" ? `request header fields exceed ${config.http.maxHeaderBytes} bytes` : `malformed HTTP request (${err.code ?? "parse error"})`);
    const body = ofbErrorBody(e, deps.clock());
    metrics.rejections.inc({ stage: "http", code });
    log.info({ kind: "access", interactionId, decision: "rejected", code, stage: "http", status: e.status, remoteAddress: (socket as TLSSocket).remoteAddress }, "request");
    socket.end(
      `HTTP/1.1 ${e.status} ${code === "REQUEST_HEADERS_TOO_LARGE" ? "Request Header Fields Too Large" : "Bad Request"}\r\n` +
        `Content-Type: ${JSON_UTF8}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\n` +
        `${INTERACTION_ID}: ${interactionId}\r\nDate: ${deps.clock().toUTCString()}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  return {
    server,
    swap(app, nextPeer) {
      handle = listenerFor(app);
      peer = nextPeer;
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
