import type { X509Certificate } from "node:crypto";
import type { PeerState } from "../connection/peer-state.js";

/**
 * The one place that touches the TLS socket for the peer certificate (STYLE habit 2). Everything the
 * connection establishes about its peer is computed once and kept here, keyed by the socket.
 */
export interface PeerSocket {
  readonly authorized?: boolean;
  readonly authorizationError?: Error | string | null;
  getPeerX509Certificate?(): X509Certificate | undefined;
}

const states = new WeakMap<object, PeerState>();

/** The certificates the client sent (leaf first, as sent) and OpenSSL's verify result. */
export function readPresented(socket: PeerSocket): { presented: Uint8Array[]; opensslError: string | null } {
  const leaf = socket.getPeerX509Certificate?.();
  if (!leaf) return { presented: [], opensslError: null };
  const presented: Uint8Array[] = [];
  // On a server, issuerCertificate follows the chain the client presented (SSL_get_peer_cert_chain),
  // not the path OpenSSL built, which is what "the client must send its intermediate" needs.
  for (let c: X509Certificate | undefined = leaf; c && presented.length < 16; c = c.issuerCertificate) {
    presented.push(c.raw);
    if (c.issuerCertificate === c) break;
  }
  const opensslError = socket.authorized ? null : (verifyError(socket) ?? "UNKNOWN");
  return { presented, opensslError };
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
 * The connection's peer state, computed on first use with `evaluate` and cached for the socket's lifetime.
 * The listener calls it at `secureConnection`: the cache is needed for correctness, not only speed, since by
 * the time a request is read Node no longer exposes the presented intermediates (`issuerCertificate` is unset).
 */
export function peerState(socket: object, evaluate: (presented: Uint8Array[], opensslError: string | null) => PeerState): PeerState {
  let state = states.get(socket);
  if (state === undefined) {
    const { presented, opensslError } = readPresented(socket as PeerSocket);
    state = evaluate(presented, opensslError);
    states.set(socket, state);
  }
  return state;
}
