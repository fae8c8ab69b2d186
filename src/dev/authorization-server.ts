import { randomBytes, randomUUID, X509Certificate } from "node:crypto";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { listen } from "../http/listen.js";
import type { TLSSocket } from "node:tls";
import { CompactSign, createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT, type JSONWebKeySet, type JWK, type JWTPayload } from "jose";
import { x5tS256 } from "../pki/thumbprint.js";

/** A client the stub authenticates at its introspection endpoint (RFC 7662 §2.1). */
export interface StubClient {
  readonly clientId: string;
  /** client_secret_basic / client_secret_post. */
  readonly secret?: string;
  /** private_key_jwt: the client's public keys. */
  readonly jwks?: JSONWebKeySet;
  /** tls_client_auth: the `x5t#S256` of the certificate the client must present. */
  readonly certificateThumbprint?: string;
}

export interface AuthorizationServerStubOptions {
  readonly host?: string;
  readonly port?: number;
  /**
   * The issuer it names in discovery and in the tokens it issues, when clients reach it by another address than
   * `http://127.0.0.1:<port>` (a container's service name). Its discovery points at `<issuer>/jwks` and
   * `<issuer>/introspect`.
   */
  readonly issuer?: string;
  /** HTTPS with optional client certificates (tls_client_auth); plain HTTP when absent. */
  readonly tls?: { readonly cert: string; readonly key: string; readonly ca?: string };
  /** Clients that may introspect. Empty or absent: introspection needs no client authentication (development only). */
  readonly clients?: readonly StubClient[];
}

interface SigningKey {
  readonly kid: string;
  readonly alg: string;
  readonly privateKey: Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];
  readonly jwk: JWK;
}

/**
 * A small OAuth 2.0 authorization server for development and tests (not for production): discovery
 * (`/.well-known/openid-configuration`), a JWK Set, RFC 7662 introspection with client authentication, and
 * methods that issue JWT or opaque access tokens — bound to a certificate when given its `x5t#S256`.
 * It counts what it serves, and can be switched to answer 503, so tests observe caching and outages.
 */
export async function startAuthorizationServerStub(options: AuthorizationServerStubOptions = {}) {
  const keys: SigningKey[] = [];
  const opaque = new Map<string, Record<string, unknown>>();
  const counts = { discovery: 0, jwks: 0, introspection: 0 };
  let available = true;
  let introspectionDelayMs = 0;

  const server: Server = options.tls
    ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key, ...(options.tls.ca ? { ca: options.tls.ca, requestCert: true, rejectUnauthorized: false } : {}) }, handle)
    : createHttpServer(handle);
  const port = await listen(server, options.port ?? 0, options.host ?? "127.0.0.1");
  const issuer = options.issuer?.replace(/\/+$/, "") ?? `${options.tls ? "https" : "http"}://${options.tls ? "localhost" : "127.0.0.1"}:${port}`;

  async function addKey(alg = "PS256"): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const kid = randomUUID();
    const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
    keys.push({ kid, alg, privateKey, jwk });
    return kid;
  }
  await addKey();

  function send(res: ServerResponse, status: number, body: unknown) {
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", "content-length": Buffer.byteLength(text) });
    res.end(text);
  }

  function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void route(req, Buffer.concat(chunks).toString("utf8"), res).catch(() => send(res, 500, { error: "server_error" }));
    });
  }

  async function route(req: IncomingMessage, body: string, res: ServerResponse) {
    const path = (req.url ?? "/").split("?")[0];
    if (!available) return send(res, 503, { error: "temporarily_unavailable" });
    if (req.method === "GET" && path === "/.well-known/openid-configuration") {
      counts.discovery++;
      return send(res, 200, {
        issuer,
        jwks_uri: `${issuer}/jwks`,
        introspection_endpoint: `${issuer}/introspect`,
        ...(options.tls ? { mtls_endpoint_aliases: { introspection_endpoint: `${issuer}/introspect` }, tls_client_certificate_bound_access_tokens: true } : {}),
        introspection_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "private_key_jwt", "tls_client_auth"],
        token_endpoint_auth_signing_alg_values_supported: ["PS256", "ES256", "RS256"],
      });
    }
    if (req.method === "GET" && path === "/jwks") {
      counts.jwks++;
      return send(res, 200, { keys: keys.map((k) => k.jwk) });
    }
    if (req.method === "POST" && path === "/introspect") {
      counts.introspection++;
      if (introspectionDelayMs > 0) await new Promise((r) => setTimeout(r, introspectionDelayMs));
      const form = new URLSearchParams(body);
      if (!(await authenticated(req, form))) return send(res, 401, { error: "invalid_client" });
      const token = form.get("token");
      const entry = token === null ? undefined : opaque.get(token);
      return send(res, 200, entry ?? { active: false });
    }
    return send(res, 404, { error: "not_found" });
  }

  async function authenticated(req: IncomingMessage, form: URLSearchParams): Promise<boolean> {
    const clients = options.clients ?? [];
    if (clients.length === 0) return true;
    const header = req.headers.authorization;
    if (header?.startsWith("Basic ")) {
      const [id, secret] = Buffer.from(header.slice(6), "base64").toString("utf8").split(":").map((s) => decodeURIComponent(s.replace(/\+/g, " ")));
      return clients.some((c) => c.clientId === id && c.secret !== undefined && c.secret === secret);
    }
    const client = clients.find((c) => c.clientId === form.get("client_id"));
    if (!client) return false;
    if (form.has("client_secret")) return client.secret !== undefined && form.get("client_secret") === client.secret;
    const assertion = form.get("client_assertion");
    if (assertion !== null) {
      if (!client.jwks || form.get("client_assertion_type") !== "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") return false;
      try {
        await jwtVerify(assertion, createLocalJWKSet(client.jwks), { issuer: client.clientId, subject: client.clientId, audience: [issuer, `${issuer}/introspect`], requiredClaims: ["exp", "jti"] });
        return true;
      } catch {
        return false;
      }
    }
    if (client.certificateThumbprint) {
      const socket = req.socket as TLSSocket;
      const cert = typeof socket.getPeerX509Certificate === "function" ? socket.getPeerX509Certificate() : undefined;
      return socket.authorized && cert !== undefined && x5tS256(cert.raw) === client.certificateThumbprint;
    }
    return false;
  }

  return {
    issuer,
    url: issuer,
    jwksUri: `${issuer}/jwks`,
    introspectionEndpoint: `${issuer}/introspect`,
    counts,
    /** The current signing key's id (the first key unless rotated). */
    get kid(): string {
      return keys[0]!.kid;
    },
    addKey,
    /** Answer every request with 503 (false) or normally (true). */
    setAvailable(value: boolean) {
      available = value;
    },
    /** Delays introspection answers (single-flight tests). */
    setIntrospectionDelay(ms: number) {
      introspectionDelayMs = ms;
    },
    /**
     * A signed JWT access token. Defaults: `iss` this server, `iat` now, `exp` in 300 s, `jti`; `thumbprint` adds
     * `cnf: {"x5t#S256": …}`. `claims` override or add claims (`cnf: undefined` removes nothing: pass `cnf` to replace).
     */
    async issueJwt(
      o: { thumbprint?: string; claims?: JWTPayload & Record<string, unknown>; lifetimeSeconds?: number; now?: Date; kid?: string; header?: Record<string, unknown> } = {},
    ): Promise<string> {
      const key = o.kid ? keys.find((k) => k.kid === o.kid) : keys[0];
      if (!key) throw new Error(`no key ${o.kid}`);
      const iat = Math.floor((o.now ?? new Date()).getTime() / 1000);
      const payload: JWTPayload & Record<string, unknown> = {
        iss: issuer,
        iat,
        exp: iat + (o.lifetimeSeconds ?? 300),
        jti: randomUUID(),
        ...(o.thumbprint ? { cnf: { "x5t#S256": o.thumbprint } } : {}),
        ...o.claims,
      };
      return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "at+jwt", ...o.header }).sign(key.privateKey);
    },
    /** A JWS over arbitrary payload bytes with the current key (tokens whose signature is right but content is not). */
    signRaw(payload: string): Promise<string> {
      const key = keys[0]!;
      return new CompactSign(new TextEncoder().encode(payload)).setProtectedHeader({ alg: key.alg, kid: key.kid }).sign(key.privateKey);
    },
    /** An opaque token whose introspection answers `response` (e.g. `{active: true, cnf: …}`). */
    issueOpaque(response: Record<string, unknown>): string {
      const token = randomBytes(32).toString("base64url");
      opaque.set(token, response);
      return token;
    },
    /** The `x5t#S256` of a PEM certificate (the first in the file). */
    thumbprintOf(pem: string): string {
      return x5tS256(new X509Certificate(pem).raw);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export type AuthorizationServerStub = Awaited<ReturnType<typeof startAuthorizationServerStub>>;
