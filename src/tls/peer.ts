import type { X509Certificate } from "node:crypto";
import type { TLSSocket } from "node:tls";
import type { PeerState } from "../connection/peer-state.js";

/**
 * The one place that touches the TLS socket for the peer certificate. Everything the
 * connection establishes about its peer is computed once and kept here, keyed by the socket.
 */
export interface PeerSocket {
  readonly authorized?: boolean;
  readonly authorizationError?: Error | string | null;
  getPeerCertificate?(detailed?: false): { raw?: Buffer; fingerprint256?: string } | null;
  getPeerX509Certificate?(): X509Certificate | undefined;
}

/** What the client presented, read off the socket as cheaply as the question allows. */
export interface Presented {
  /** DER of the end-entity certificate, or null when the client sent none. */
  readonly leaf: Uint8Array | null;
  /** SHA-256 of the leaf's DER (as OpenSSL computed it for Node), to key per-certificate caches without hashing again. */
  readonly leafSha256: string;
  /** OpenSSL's verify result (`authorizationError`), null when the chain was verified. */
  readonly opensslError: string | null;
  /**
   * The certificates the client sent, leaf first, in the order sent. Costly (Node copies and re-decodes every
   * intermediate, ~0.2 ms), so evaluators call it only for a chain they have not seen before.
   */
  readonly chain: () => Uint8Array[];
}

const states = new WeakMap<object, PeerState>();

/** Set on each TLS socket by the listener: what an HTTP/2 stream's socket stand-in resolves to. */
const CONNECTION = Symbol("ofb-edge.tls-connection");

/** Marks `socket` as a TLS connection of a listener, so that {@link connectionOf} finds it behind HTTP/2 streams. */
export function bindConnection(socket: TLSSocket): void {
  Object.defineProperty(socket, CONNECTION, { value: socket });
}

/**
 * The TLS connection a request arrived on, from what `IncomingMessage.socket` gives: on HTTP/1.1 the socket itself,
 * on HTTP/2 a per-stream stand-in Node creates (it forwards property reads to the session's socket), which would
 * otherwise make every stream look like a new connection. Per-connection state is keyed by what this returns.
 */
export function connectionOf(socket: object): object {
  return (socket as { [CONNECTION]?: object })[CONNECTION] ?? socket;
}

/** The leaf, OpenSSL's verify result and a lazy reader of the presented chain. */
export function readPresented(socket: PeerSocket): Presented {
  // The abbreviated legacy object is the cheapest way to the leaf's DER (no copy of the intermediates).
  const leaf = socket.getPeerCertificate?.(false);
  const raw = leaf?.raw;
  if (!raw) return { leaf: null, leafSha256: "", opensslError: null, chain: () => [] };
  return {
    leaf: raw,
    leafSha256: leaf.fingerprint256 ?? "",
    opensslError: socket.authorized ? null : (verifyError(socket) ?? "UNKNOWN"),
    chain: () => presentedChain(socket, raw),
  };
}

function presentedChain(socket: PeerSocket, leafDer: Uint8Array): Uint8Array[] {
  const leaf = socket.getPeerX509Certificate?.();
  if (!leaf) return [leafDer];
  const presented: Uint8Array[] = [];
  // On a server, issuerCertificate follows the chain the client presented (SSL_get_peer_cert_chain), not the
  // path OpenSSL built, which is what "the client must send its intermediate" needs. Node 20 hands the
  // intermediates over by removing them from the connection's chain, so this can be read once per connection.
  for (let c: X509Certificate | undefined = leaf; c && presented.length < 16; c = c.issuerCertificate) {
    presented.push(c.raw);
    if (c.issuerCertificate === c) break;
  }
  return presented;
}

/** OpenSSL's verify result for the connection (e.g. `CERT_HAS_EXPIRED`), or undefined when there is none. */
export function verifyError(socket: PeerSocket): string | undefined {
  // At run time Node sets authorizationError to OpenSSL's verify code (a string), despite its typings.
  const err = socket.authorizationError;
  if (typeof err === "string") return err;
  if (err instanceof Error) return (err as NodeJS.ErrnoException).code ?? err.message;
  return undefined;
}

/**
 * The connection's peer state, computed on first use with `evaluate` and cached for the connection's lifetime
 * (every HTTP/2 stream of a connection shares it).
 * The listener calls it at `secureConnection`: the cache is needed for correctness, not only speed, since by
 * the time a request is read Node no longer exposes the presented intermediates.
 */
export function peerState(socket: object, evaluate: (presented: Presented) => PeerState): PeerState {
  const connection = connectionOf(socket);
  let state = states.get(connection);
  if (state === undefined) {
    state = evaluate(readPresented(connection as PeerSocket));
    states.set(connection, state);
  }
  return state;
}

/** What a connection negotiated, for its access lines. */
export interface NegotiatedTls {
  /** `TLSv1.2`, `TLSv1.3`; undefined on a connection that is not TLS. */
  readonly version: string | undefined;
  /** The cipher suite by its OpenSSL name, as `tls` options name them (`ECDHE-RSA-AES128-GCM-SHA256`, `TLS_AES_128_GCM_SHA256`). */
  readonly cipher: string | undefined;
}

const negotiated = new WeakMap<object, NegotiatedTls>();

/** The connection's TLS version and cipher suite, read off the socket once per connection and kept. */
export function negotiatedTls(stream: object): NegotiatedTls {
  // HTTP/2 streams share their connection's facts (see connectionOf).
  const socket = connectionOf(stream);
  let facts = negotiated.get(socket);
  if (facts === undefined) {
    const tls = socket as { getProtocol?(): string | null; getCipher?(): { name?: string } | undefined };
    facts = { version: tls.getProtocol?.() ?? undefined, cipher: tls.getCipher?.()?.name };
    negotiated.set(socket, facts);
  }
  return facts;
}
