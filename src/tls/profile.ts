import { constants } from "node:crypto";
import type { SecureContextOptions, Server, TlsOptions } from "node:tls";

/** TLS 1.3 suites: FAPI 1 Part 2 §8.5 puts no restriction on them; these are OpenSSL's three AEAD suites. */
export const TLS13_SUITES = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"] as const;

/** TLS 1.2 suites the OFB security profile requires ("shall support"), and the only ones allowed by default. */
export const FAPI_TLS12_SUITES = ["ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384"] as const;

/**
 * FAPI 1 Part 2 §8.5 also allows DHE-RSA with AES-GCM (≥ 2048-bit groups); only when configured
 * (docs/architecture.md, decision D2).
 */
export const FAPI_TLS12_DHE_SUITES = ["DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384"] as const;

/**
 * OpenSSL options. OFB security profile ("Secure use of TLS"): "TLS session resumption and TLS renegotiation
 * shall be disabled". Renegotiation is refused here; resumption by {@link refuseSessionTickets}, which every
 * server using these options must call (Node keeps no server session cache unless `newSession`/`resumeSession`
 * listeners exist, and this code registers none, so no session id can be resumed either).
 */
export const SECURE_OPTIONS =
  constants.SSL_OP_NO_RENEGOTIATION |
  constants.SSL_OP_CIPHER_SERVER_PREFERENCE |
  constants.SSL_OP_NO_COMPRESSION;

export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  readonly keyPassphrase?: string | undefined;
  readonly ca: readonly string[];
  readonly dhe: boolean;
  readonly dhparam?: string | undefined;
}

/** The cipher string: TLS 1.3 suites first (preferred), then the TLS 1.2 list of the profile. */
export function cipherList(dhe: boolean): string {
  return [...TLS13_SUITES, ...FAPI_TLS12_SUITES, ...(dhe ? FAPI_TLS12_DHE_SUITES : [])].join(":");
}

/**
 * Secure-context options for a listener: explicit versions, ciphers and options, never library defaults.
 * Used both at start-up and for `setSecureContext` on reload.
 */
export function secureContextOptions(m: TlsMaterial): SecureContextOptions {
  return {
    cert: m.cert,
    key: m.key,
    ...(m.keyPassphrase === undefined ? {} : { passphrase: m.keyPassphrase }),
    ca: [...m.ca],
    minVersion: "TLSv1.2",
    maxVersion: "TLSv1.3",
    ciphers: cipherList(m.dhe),
    honorCipherOrder: true,
    secureOptions: SECURE_OPTIONS,
    // Node negotiates DHE only when parameters are set; "auto" uses OpenSSL's ≥2048-bit groups.
    ...(m.dhe ? { dhparam: m.dhparam ?? "auto" } : {}),
  };
}

/**
 * Server options per listener mode (docs/architecture.md §TLS listeners, decision D3).
 * - `strict`: `rejectUnauthorized: true`. OpenSSL fails the handshake when no certificate is sent (alert
 *   `handshake_failure` / TLS 1.3 `certificate_required`), and Node drops a connection whose chain fails path
 *   validation before any HTTP byte is read; the listener logs both from `tlsClientError` with
 *   `authorizationError`. OFB policy rules OpenSSL does not know (keyUsage, key size, UID, …) close the
 *   connection at `secureConnection`.
 * - `permissive`: the handshake completes with any or no certificate; each route decides.
 * - `trusted-proxy`: the peer is the terminator in front; its own certificate is asked for only when
 *   `trustedProxy.clientTrustAnchors` is set (`ca` then holds those, not the client anchors) and decides trust.
 */
export function serverTlsOptions(m: TlsMaterial, mode: "strict" | "permissive" | "trusted-proxy"): TlsOptions {
  return {
    ...secureContextOptions(m),
    requestCert: mode !== "trusted-proxy" || m.ca.length > 0,
    rejectUnauthorized: mode === "strict",
  };
}

/** Node's native secure context, as far as session tickets go (not in Node's typings; see refuseSessionTickets). */
interface TicketContext {
  enableTicketKeyCallback?(): void;
  onticketkeycallback?: (name: Buffer, iv: Buffer, encrypt: boolean) => unknown[];
  setOptions?(options: number): void;
}

/** Never used: OpenSSL reads the keys only when the callback returns 1 or 2, but Node checks they are 16-byte buffers. */
const UNUSED_KEY = Buffer.alloc(16);

/** OpenSSL's ticket key callback answering 0: "no ticket" when issuing one, "cannot decrypt" when one is offered. */
const noTicket = () => [0, UNUSED_KEY, UNUSED_KEY, UNUSED_KEY, UNUSED_KEY];

/**
 * Session resumption off, with no session ticket issued at all — in TLS 1.2 and in TLS 1.3, where OpenSSL sends two
 * NewSessionTicket messages after every handshake even with SSL_OP_NO_TICKET (then stateful tickets, useless without a
 * session cache but still sent, misleading scanners; OpenSSL's `SSL_CTX_set_num_tickets`, which would stop them, is
 * not exposed by Node). What works on Node 20 is the ticket key callback of the server's secure context (an internal
 * hook that Node's own test suite drives, test-https-resume-after-renew.js): it answers 0, so OpenSSL issues no ticket and decrypts none
 * offered (a full handshake follows). Applied to the server's context now and again after every `setSecureContext`
 * (reload). Where the hook is missing, SSL_OP_NO_TICKET is set instead (resumption still refused); where that is
 * missing too, this throws rather than serve with tickets on.
 */
export function refuseSessionTickets(server: Server): void {
  const apply = () => {
    const context = (server as Server & { _sharedCreds?: { context?: TicketContext } })._sharedCreds?.context;
    if (typeof context?.enableTicketKeyCallback === "function") {
      context.enableTicketKeyCallback();
      context.onticketkeycallback = noTicket;
    } else if (typeof context?.setOptions === "function") context.setOptions(constants.SSL_OP_NO_TICKET);
    else throw new Error("this Node.js exposes no way to turn TLS session tickets off; refusing to serve with resumption on");
  };
  apply();
  const setSecureContext = server.setSecureContext.bind(server);
  server.setSecureContext = (options) => {
    setSecureContext(options);
    apply();
  };
}
