import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { Agent, request } from "node:https";
import { connect, type ConnectionOptions, type TLSSocket } from "node:tls";
import { PROBE_HEADER, type ClientCredentials, type DirectoryOutage, type Environment, type SignedMessages, type TokenIssuer } from "./environment.js";
import { Http2Connection, type Http2Result } from "./http2-client.js";
import type { RecordedRequest } from "./recorder.js";
import { ConformanceFailure, ScenarioSkipped, type Capability } from "./scenario.js";

/** What came back for one request; `status` 0 when the connection failed before a response (`error` says how). */
export interface Exchange {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** Response header lines in arrival order, names as sent. */
  readonly rawHeaders: readonly (readonly [string, string])[];
  readonly body: Buffer;
  readonly text: string;
  /** The transport error when `status` is 0 (e.g. a handshake the edge refused). */
  readonly error?: string;
  /** The probe id this request carried (what the recorder indexes by). */
  readonly probe: string;
  /** The `x-fapi-interaction-id` sent, if any. */
  readonly interactionId: string | undefined;
  json<T = unknown>(): T;
}

export interface SendOptions {
  /** Credentials to present (`participant-a`, …); null or absent: no client certificate. */
  readonly as?: string | null;
  /** Send the leaf without its intermediates. */
  readonly leafOnly?: boolean;
  readonly path?: string;
  readonly method?: string;
  /** `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** A fresh random UUID unless given, or false for none. */
  readonly interactionId?: string | false;
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  readonly body?: string | Buffer;
  /** Reuse a kept-alive connection from {@link ScenarioContext.agent}. */
  readonly agent?: KeptConnection;
  /** Extra TLS options (versions, ciphers). */
  readonly tls?: ConnectionOptions;
  /** Another port on the target's host (e.g. the edge {@link ScenarioContext.directoryOutage} returns). */
  readonly port?: number;
}

/** A raw TLS handshake's outcome. The socket of a completed one is ended by the context after the scenario. */
export type Handshake =
  | {
      readonly ok: true;
      readonly socket: TLSSocket;
      readonly protocol: string | null;
      readonly cipher: string;
      readonly reused: boolean;
      /** Session state the server handed out (TLS 1.2 session, TLS 1.3 tickets), in arrival order. */
      readonly sessions: readonly Buffer[];
    }
  | { readonly ok: false; readonly error: string; readonly alert: string | undefined };

const REQUEST_TIMEOUT_MS = 10_000;

/** A connection kept for several requests: a keep-alive agent with one socket, or one HTTP/2 connection. */
export type KeptConnection = Agent | Http2Connection;

/** Everything a scenario uses: the edge, credentials, tokens, the recorder, and assertions that record what they checked. */
export class ScenarioContext {
  /** What was verified, in order (the report lists them). */
  readonly checks: string[] = [];
  /** Limits of what could be observed (e.g. no recorder). */
  readonly notes: string[] = [];
  private readonly sockets: TLSSocket[] = [];
  private readonly agents: KeptConnection[] = [];

  constructor(readonly env: Environment) {}

  get paths(): Environment["paths"] {
    return this.env.paths;
  }

  get mode(): Environment["mode"] {
    return this.env.mode;
  }

  has(capability: Capability): boolean {
    return this.env.capabilities.has(capability);
  }

  /** Skips the scenario at run time (a prerequisite found missing). */
  skipScenario(reason: string): never {
    throw new ScenarioSkipped(reason);
  }

  client(name: string): ClientCredentials {
    const c = this.env.credentials(name);
    if (!c) this.skipScenario(`no credentials named '${name}'`);
    return c;
  }

  /** An access token bound to `client`'s certificate. */
  async boundToken(client = "participant-a"): Promise<string> {
    if (!this.env.boundToken) this.skipScenario("no bound access token (capability token)");
    return this.env.boundToken(client);
  }

  get issuer(): TokenIssuer {
    if (!this.env.issuer) this.skipScenario("no token issuer (capability token-issuer)");
    return this.env.issuer;
  }

  opaqueToken(response: Record<string, unknown>): string {
    if (!this.env.opaqueToken) this.skipScenario("no introspection stub (capability introspection)");
    return this.env.opaqueToken(response);
  }

  /** A route that requires a scope, and the scope. */
  get scoped(): { readonly path: string; readonly scope: string } {
    if (!this.env.scoped) this.skipScenario("no route that requires a scope (capability scopes)");
    return this.env.scoped;
  }

  /** The path of a route with a small per-participant limit (capability participant-limit). */
  get participantLimitedPath(): string {
    const path = this.env.limited?.participant;
    if (path === undefined) this.skipScenario("no route with a small per-participant limit (capability participant-limit)");
    return path;
  }

  /** The path of a route with a small global ceiling (capability global-limit). */
  get globalLimitedPath(): string {
    const path = this.env.limited?.global;
    if (path === undefined) this.skipScenario("no route with a small global ceiling (capability global-limit)");
    return path;
  }

  async directoryOutage(): Promise<DirectoryOutage> {
    if (!this.env.directoryOutage) this.skipScenario("no directory outage control (capability directory-outage)");
    return this.env.directoryOutage();
  }

  /** The signed-message route and keys (area `messages`). */
  get messages(): SignedMessages {
    if (!this.env.messages) this.skipScenario("no signed-message route (capability message-signer)");
    return this.env.messages;
  }

  /**
   * One TLS connection for several requests (a keep-alive agent with one socket; over HTTP/2, one connection whose
   * requests are streams); closed after the scenario.
   */
  agent(as: string | null): KeptConnection {
    const credentials = as === null ? {} : this.tlsCredentials(as, false);
    const agent = this.env.protocol === "http2" ? this.http2Connection({ ...credentials, ...this.serverTrust() }) : new Agent({ keepAlive: true, maxSockets: 1, maxCachedSessions: 0, ...credentials, ...this.serverTrust() });
    this.agents.push(agent);
    return agent;
  }

  /** One HTTPS request over a new TLS connection (or `o.agent`'s). Never rejects on transport errors. */
  send(o: SendOptions = {}): Promise<Exchange> {
    const probe = randomUUID();
    const interactionId = o.interactionId === false ? undefined : (o.interactionId ?? randomUUID());
    const headers: Record<string, string | string[]> = {
      [PROBE_HEADER]: probe,
      ...(interactionId === undefined ? {} : { "x-fapi-interaction-id": interactionId }),
      ...(o.token === undefined ? {} : { authorization: `Bearer ${o.token}` }),
    };
    for (const [k, v] of Object.entries(o.headers ?? {})) headers[k] = typeof v === "string" ? v : [...v];
    const { target } = this.env;
    const complete = (r: Omit<Exchange, "probe" | "interactionId" | "json" | "text">): Exchange => {
      const text = r.body.toString("utf8");
      return { ...r, text, probe, interactionId, json: <T>() => JSON.parse(text) as T };
    };
    if (this.env.protocol === "http2") return this.sendHttp2(o, headers).then(complete);
    if (o.agent instanceof Http2Connection) throw new Error("an HTTP/2 connection in an HTTP/1.1 run");
    const agent = o.agent;
    return new Promise((resolve) => {
      const done = (r: Omit<Exchange, "probe" | "interactionId" | "json" | "text">) => resolve(complete(r));
      const fail = (err: NodeJS.ErrnoException) => done({ status: 0, headers: {}, rawHeaders: [], body: Buffer.alloc(0), error: err.code ?? err.message });
      const req = request(
        {
          host: target.host,
          port: o.port ?? target.port,
          servername: target.servername,
          path: o.path ?? this.env.paths.accounts,
          method: o.method ?? "GET",
          headers,
          timeout: REQUEST_TIMEOUT_MS,
          ...(agent ? { agent } : { agent: false, ...(o.as ? this.tlsCredentials(o.as, o.leafOnly ?? false) : {}), ...this.serverTrust() }),
          ...o.tls,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const raw: [string, string][] = [];
            for (let i = 0; i < res.rawHeaders.length; i += 2) raw.push([res.rawHeaders[i]!, res.rawHeaders[i + 1]!]);
            done({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: raw, body: Buffer.concat(chunks) });
          });
          res.on("error", fail);
        },
      );
      req.on("timeout", () => req.destroy(Object.assign(new Error("request timed out"), { code: "ETIMEDOUT" })));
      req.on("error", fail);
      req.end(o.body);
    });
  }

  /** The request over HTTP/2: on `o.agent`'s connection, or on a new one closed after the response. */
  private async sendHttp2(o: SendOptions, headers: Record<string, string | string[]>): Promise<Http2Result> {
    if (o.agent !== undefined && !(o.agent instanceof Http2Connection)) throw new Error("an HTTP/1.1 agent in an HTTP/2 run");
    const connection = o.agent ?? this.http2Connection({ ...(o.as ? this.tlsCredentials(o.as, o.leafOnly ?? false) : {}), ...this.serverTrust(), ...o.tls }, o.port);
    try {
      return await connection.exchange({ method: o.method ?? "GET", path: o.path ?? this.env.paths.accounts, headers, body: o.body, timeoutMs: REQUEST_TIMEOUT_MS });
    } finally {
      if (o.agent === undefined) connection.close();
    }
  }

  private http2Connection(tls: ConnectionOptions, port?: number): Http2Connection {
    const { target } = this.env;
    const p = port ?? target.port;
    return new Http2Connection(`https://${target.host.includes(":") ? `[${target.host}]` : target.host}:${p}`, { host: target.host, port: p, servername: target.servername, ...tls });
  }

  /**
   * A raw TLS handshake with `node:tls` (the server certificate is not verified: probes look at the
   * protocol only). `as` presents a client certificate. Never rejects: a refused handshake is an outcome. In an
   * HTTP/2 run the client offers ALPN `h2` (unless `ALPNProtocols` says otherwise), and a completed handshake is
   * also checked to have selected it.
   */
  handshake(options: ConnectionOptions & { readonly as?: string | null; readonly port?: number } = {}): Promise<Handshake> {
    const { as, port, ...tls } = options;
    const { target } = this.env;
    const alpn = tls.ALPNProtocols ?? (this.env.protocol === "http2" ? ["h2"] : undefined);
    return new Promise((resolve) => {
      const sessions: Buffer[] = [];
      const socket = connect({
        host: target.host,
        port: port ?? target.port,
        servername: target.servername,
        rejectUnauthorized: false,
        ...(as ? this.tlsCredentials(as, false) : {}),
        ...tls,
        ...(alpn ? { ALPNProtocols: alpn } : {}),
      });
      this.sockets.push(socket);
      socket.setTimeout(REQUEST_TIMEOUT_MS, () => socket.destroy(Object.assign(new Error("handshake timed out"), { code: "ETIMEDOUT" })));
      socket.on("session", (session: Buffer) => sessions.push(session));
      socket.once("secureConnect", () => {
        if (this.env.protocol === "http2" && Array.isArray(alpn) && alpn.includes("h2")) this.equal(socket.alpnProtocol, "h2", "the application protocol the edge selects in ALPN");
        resolve({ ok: true, socket, protocol: socket.getProtocol(), cipher: socket.getCipher().name, reused: socket.isSessionReused(), sessions });
      });
      socket.once("error", (error: NodeJS.ErrnoException) => {
        socket.destroy();
        const alert = /alert ([a-z ]+)/i.exec(error.message)?.[1]?.trim();
        resolve({ ok: false, error: error.code ?? error.message, alert });
      });
    });
  }

  /** The session state a completed handshake's socket received within `ms` (TLS 1.3 tickets arrive after the handshake). */
  async sessionsAfter(h: Handshake & { ok: true }, ms = 300): Promise<readonly Buffer[]> {
    await new Promise((r) => setTimeout(r, ms));
    return h.sessions;
  }

  // ── assertions ──────────────────────────────────────────────────────────────────────────────

  /** Fails the scenario with `message` unless `condition`; records `message` as checked otherwise. */
  check(condition: boolean, message: string, seen?: unknown): void {
    if (!condition) this.fail(message, seen);
    this.checks.push(message);
  }

  /** Fails the scenario: `message` is what was expected. */
  fail(message: string, seen?: unknown): never {
    throw new ConformanceFailure(seen === undefined ? message : `${message} (seen: ${show(seen)})`);
  }

  equal<T>(actual: T, expected: T, what: string): void {
    this.check(Object.is(actual, expected), `${what} is ${show(expected)}`, actual);
  }

  note(text: string): void {
    if (!this.notes.includes(text)) this.notes.push(text);
  }

  expectStatus(res: Exchange, expected: number | readonly number[]): void {
    const allowed = typeof expected === "number" ? [expected] : expected;
    this.check(allowed.includes(res.status), `HTTP status ${allowed.join(" or ")}`, res.status === 0 ? `no response: ${res.error}` : `${res.status} ${res.text.slice(0, 200)}`);
  }

  /**
   * The edge's rejection in the OFB error format (OFB OpenAPI accounts 2.4.2: `ResponseErrorMetaSingle`, JSON in
   * UTF-8, an interaction id) with `code` as `errors[0].code`, and nothing forwarded. `orHandshakeRefused`: a
   * deployment whose listener is strict may refuse the certificate in the handshake instead (docs/architecture.md,
   * decision D3) — also a pass.
   */
  async expectRejected(res: Exchange, o: { readonly status: number; readonly code: string | readonly string[]; readonly orHandshakeRefused?: boolean; readonly orStreamRefused?: boolean }): Promise<void> {
    if (res.status === 0 && o.orHandshakeRefused) {
      // Refused by TLS (an alert, or the connection reset after the handshake), not unreachable.
      this.check(res.error !== undefined && (res.error.startsWith("ERR_SSL_") || res.error === "ECONNRESET" || res.error === "EPIPE"), "the connection is refused in the TLS handshake", res.error);
    } else if (o.orStreamRefused && this.streamRefused(res)) {
      this.check(true, "the HTTP/2 stream is refused (RST_STREAM) without a response");
    } else {
      this.expectOfbError(res, o.status, o.code);
    }
    await this.expectNotForwarded(res);
  }

  /**
   * Whether an HTTP/2 request's stream was reset before any response: how an HTTP/2 server refuses what it will not
   * read (a field section over its SETTINGS_MAX_HEADER_LIST_SIZE, RFC 9113 §10.5.1) or a malformed request (§8.1.1).
   */
  streamRefused(res: Exchange): boolean {
    return this.env.protocol === "http2" && res.status === 0 && res.error?.startsWith("RST_STREAM") === true;
  }

  /** The OFB error body (`errors[1..13]{code≤255,title≤255,detail≤2048}`, `meta.requestDateTime`), content type and interaction id. */
  expectOfbError(res: Exchange, status: number, code?: string | readonly string[]): void {
    this.expectStatus(res, status);
    this.expectJsonUtf8(res);
    let body: unknown;
    try {
      body = res.json();
    } catch {
      this.check(false, "the error body is JSON", res.text.slice(0, 200));
    }
    const errors = (body as { errors?: unknown }).errors;
    this.check(Array.isArray(errors) && errors.length >= 1 && errors.length <= 13, "errors[] holds 1 to 13 entries", errors);
    for (const e of errors as { code?: unknown; title?: unknown; detail?: unknown }[]) {
      this.check(typeof e.code === "string" && e.code.length <= 255, "errors[].code is a string of at most 255 characters", e.code);
      this.check(typeof e.title === "string" && e.title.length <= 255, "errors[].title is a string of at most 255 characters", e.title);
      this.check(typeof e.detail === "string" && e.detail.length <= 2048, "errors[].detail is a string of at most 2048 characters", e.detail);
    }
    const meta = (body as { meta?: { requestDateTime?: unknown } }).meta;
    this.check(typeof meta?.requestDateTime === "string" && !Number.isNaN(Date.parse(meta.requestDateTime)), "meta.requestDateTime is a date-time", meta);
    if (code !== undefined) {
      const codes = typeof code === "string" ? [code] : code;
      const first = (errors as { code: string }[])[0]!.code;
      this.check(codes.includes(first), `errors[0].code is ${codes.join(" or ")}`, first);
    }
    this.expectInteractionId(res);
  }

  /** `Content-Type: application/json`, and a charset, when present, of UTF-8 (OIDF EnsureResourceResponseReturnedJsonContentType). */
  expectJsonUtf8(res: Exchange): void {
    const type = res.headers["content-type"] ?? "";
    const [essence, ...params] = type.split(";").map((s) => s.trim());
    this.check(essence?.toLowerCase() === "application/json", "Content-Type is application/json", type);
    const charset = params.find((p) => /^charset=/i.test(p));
    this.check(charset === undefined || /^charset="?utf-8"?$/i.test(charset), "charset, if present, is UTF-8", type);
  }

  /** A response `x-fapi-interaction-id` that is a UUID; equal to the one sent, when one was sent and valid. */
  expectInteractionId(res: Exchange, o: { readonly echoed?: boolean } = {}): string {
    const got = res.headers["x-fapi-interaction-id"];
    if (typeof got !== "string" || !UUID.test(got)) this.fail("the response carries a UUID x-fapi-interaction-id", got);
    this.check(true, "the response carries a UUID x-fapi-interaction-id");
    if (o.echoed) this.equal(got, res.interactionId, "x-fapi-interaction-id (echoed verbatim)");
    return got;
  }

  /** `WWW-Authenticate: Bearer …` per RFC 6750 §3, with `error` equal to `error` (null: no error attribute at all). */
  expectBearerChallenge(res: Exchange, error: string | null): Record<string, string> {
    const header = res.headers["www-authenticate"];
    if (typeof header !== "string") this.fail("a WWW-Authenticate header is present", header);
    this.check(true, "a WWW-Authenticate header is present");
    const params = parseBearerChallenge(header);
    if (params === null) this.fail("WWW-Authenticate is a Bearer challenge with quoted auth-params (RFC 6750 §3)", header);
    this.check(true, "WWW-Authenticate is a Bearer challenge with quoted auth-params (RFC 6750 §3)");
    if (error === null) this.check(!("error" in params), "the challenge carries no error attribute (RFC 6750 §3: no credentials sent)", header);
    else this.equal(params.error, error, "the challenge's error attribute");
    for (const [k, v] of Object.entries(params)) {
      if (k === "error_description") this.check(/^[\x20\x21\x23-\x5B\x5D-\x7E]*$/.test(v), "error_description uses only RFC 6750 §3 characters", v);
    }
    return params;
  }

  /** The backend received nothing carrying this request's probe id (needs the recorder; noted otherwise). */
  async expectNotForwarded(res: Exchange): Promise<void> {
    if (!this.env.recorder) {
      this.note("backend not observed (no --recorder): 'nothing forwarded' was not verified");
      return;
    }
    const got = await this.env.recorder.received(res.probe);
    this.check(got.length === 0, "the backend received nothing", got.map((r) => `${r.method} ${r.path}`));
  }

  /** The one request the backend received for this exchange. */
  async forwarded(res: Exchange): Promise<RecordedRequest> {
    if (!this.env.recorder) this.skipScenario("the backend cannot be observed (capability recorder)");
    const got = await this.env.recorder.received(res.probe);
    this.check(got.length === 1, "the backend received the request exactly once", got.length);
    return got[0]!;
  }

  /** Closes every socket and agent the scenario opened. */
  dispose(): void {
    for (const s of this.sockets) s.destroy();
    for (const a of this.agents) {
      if (a instanceof Http2Connection) a.close();
      else a.destroy();
    }
  }

  private tlsCredentials(name: string, leafOnly: boolean): { cert: Buffer; key: Buffer } {
    const c = this.client(name);
    return { cert: leafOnly ? c.leaf : c.chain, key: c.key };
  }

  private serverTrust(): { ca?: Buffer; rejectUnauthorized: boolean } {
    const { ca, verifyServer } = this.env.target;
    return { ...(ca ? { ca } : {}), rejectUnauthorized: verifyServer };
  }
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Header values of a recorded request named `name` (case-insensitive), in order. */
export function headerValues(r: RecordedRequest, name: string): string[] {
  const lower = name.toLowerCase();
  return r.headers.filter(([k]) => k.toLowerCase() === lower).map(([, v]) => v);
}

/**
 * `Bearer` followed by `auth-param *( OWS "," OWS auth-param )` with quoted-string values (RFC 6750 §3,
 * RFC 9110 §11.2); each parameter at most once. Null when the header is not such a challenge.
 */
export function parseBearerChallenge(header: string): Record<string, string> | null {
  const m = /^Bearer(?:\s+(.*))?$/i.exec(header.trim());
  if (!m) return null;
  const params: Record<string, string> = {};
  let rest = m[1] ?? "";
  while (rest.length > 0) {
    const p = /^([A-Za-z_][A-Za-z0-9_-]*)="((?:[^"\\]|\\.)*)"\s*(?:,\s*|$)/.exec(rest);
    if (!p) return null;
    if (p[1]! in params) return null;
    params[p[1]!] = p[2]!.replace(/\\(.)/g, "$1");
    rest = rest.slice(p[0].length);
  }
  return params;
}

function show(v: unknown): string {
  const s = typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v) ?? String(v);
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
}
