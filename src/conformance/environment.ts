import type { ConfigurationFingerprint } from "./fingerprint.js";
import type { JWK } from "jose";
import type { TestMessageSigner } from "../pki/test-pki/index.js";
import type { Capability } from "./scenario.js";
import type { RecordedRequest } from "./recorder.js";

/** A participant's credentials as the suite presents them. */
export interface ClientCredentials {
  /** `participant-a`, `participant-b`, or a test PKI client name (`expired`, `no-uid`, …). */
  readonly name: string;
  /** PEM sent in the handshake: the leaf and its intermediates. */
  readonly chain: Buffer;
  /** PEM of the leaf alone (a client that forgets its intermediate). */
  readonly leaf: Buffer;
  readonly key: Buffer;
  /** RFC 8705 §3.1 `x5t#S256` of the leaf. */
  readonly thumbprint: string;
  readonly organisationId: string | null;
  readonly softwareStatementId: string | null;
  readonly cnpj: string | null;
}

/** Mints JWT access tokens the edge under test trusts (the local authorization-server stub, or the operator's key). */
export interface TokenIssuer {
  readonly issuer: string;
  /**
   * A signed JWT access token. Defaults: `iss` the issuer, `iat` now, `exp` in 300 s, a `jti`; `thumbprint`
   * adds `cnf: {"x5t#S256": …}`; `claims` override or add claims (pass `cnf` to replace it).
   */
  jwt(o?: { thumbprint?: string; claims?: Record<string, unknown>; lifetimeSeconds?: number; now?: Date; header?: Record<string, unknown> }): Promise<string>;
}

/** Reads what the backend behind the edge received (the conformance recorder). */
export interface RecorderClient {
  /** Every request the backend received carrying this probe id (header {@link PROBE_HEADER}). */
  received(probe: string): Promise<readonly RecordedRequest[]>;
}

/** What the signed-message scenarios (area `messages`) use. */
export interface SignedMessages {
  /** A route that verifies request messages and signs responses (verify-and-sign), called with POST. */
  readonly path: string;
  /** The `aud` of a message to `path`: the bank's published base URL and the path. */
  audience(path: string): string;
  /** Signs as participant-a's organisation (capability `message-signer`). */
  readonly signer?: TestMessageSigner;
  /** The bank's published application keys and organisation id (capability `bank-keys`). */
  readonly bank?: { readonly organisationId: string; readonly keys: readonly JWK[] };
}

/** Every request the suite sends carries a fresh id in this header, so the recorder can tell which probe reached it. */
export const PROBE_HEADER = "x-conformance-probe";

export interface DirectoryOutage {
  readonly port: number;
  begin(): Promise<void>;
}

/** Where the edge under test is, and what the suite may use against it. */
export interface Environment {
  readonly mode: "local" | "target";
  /** What the suite speaks to the edge: HTTP/1.1, or HTTP/2 (ALPN h2) for every request and handshake. */
  readonly protocol: "http1.1" | "http2";
  /** One line for the report: what was tested and how. */
  readonly description: string;
  readonly target: {
    readonly host: string;
    readonly port: number;
    /** SNI and the name the server certificate must carry. */
    readonly servername: string;
    /** PEM trusted for the server certificate; absent: Node's bundled CAs. */
    readonly ca?: Buffer;
    /** False only when the operator asked not to verify the server certificate (`--insecure`). */
    readonly verifyServer: boolean;
    readonly url: string;
  };
  readonly paths: {
    /** An mTLS route needing the DADOS role, e.g. `/open-banking/accounts/v2/accounts`. */
    readonly accounts: string;
    /** An mTLS route needing the PAGTO role. */
    readonly payments: string;
    /** A route without mTLS (`/.well-known/…`). */
    readonly public: string;
  };
  readonly capabilities: ReadonlySet<Capability>;
  /**
   * Routes with small traffic limits: `participant` exceeded by one participant's burst (capability
   * `participant-limit`), `global` by a concurrent burst (capability `global-limit`).
   */
  readonly limited?: { readonly participant?: string; readonly global?: string };
  /** A route whose tokens must carry `scope` (capability `scopes`). */
  readonly scoped?: { readonly path: string; readonly scope: string };
  credentials(name: string): ClientCredentials | undefined;
  /** An access token bound to `participant-a` (capability `token`). */
  boundToken?(client: string): Promise<string>;
  readonly issuer?: TokenIssuer;
  /** An opaque token whose introspection answers `response` (capability `introspection`). */
  opaqueToken?(response: Record<string, unknown>): string;
  readonly recorder?: RecorderClient;
  /**
   * A second edge (capability `directory-outage`) on `port`, serving with a fresh Directory snapshot until
   * `begin()` takes its Directory away and moves its clock past its staleness limit (one-shot).
   */
  directoryOutage?(): Promise<DirectoryOutage>;
  /** Signed payment messages (capabilities `message-signer`, `bank-keys`). */
  readonly messages?: SignedMessages;
  /** Facts the report states (store used, what was not observable). */
  readonly notes: readonly string[];
  /**
   * What was tested, as the report fingerprints it: locally, the edge's effective configuration (secrets and ports
   * removed); against a deployment, the options the operator gave (URL, paths, certificate thumbprints).
   */
  readonly configuration: ConfigurationFingerprint;
}
