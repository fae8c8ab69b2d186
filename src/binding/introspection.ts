import { createPrivateKey, randomUUID, type KeyObject } from "node:crypto";
import { SignJWT } from "jose";
import type { AuthorizationServerConfig } from "../config/schema.js";
import { AuthorizationServerUnavailableError, jsonObject, type AsHttp } from "./as-http.js";
import { readConfirmation } from "./cnf.js";
import type { AsMetadata } from "./discovery.js";
import { rejected, scopesOf, type TokenOutcome } from "./types.js";

type IntrospectionConfig = NonNullable<AuthorizationServerConfig["introspection"]>;

export interface IntrospectionOptions {
  readonly config: AuthorizationServerConfig;
  readonly introspection: IntrospectionConfig;
  readonly http: AsHttp;
  readonly metadata: () => Promise<AsMetadata>;
  readonly now: () => number;
  /** The private_key_jwt signing key, read at start-up. */
  readonly assertionKey?: KeyObject | undefined;
}

/** RFC 6749 §2.3.1: client_secret_basic encodes id and secret as form values before base64. */
function basicCredentials(id: string, secret: string): string {
  const form = (s: string) => encodeURIComponent(s).replace(/%20/g, "+");
  return `Basic ${Buffer.from(`${form(id)}:${form(secret)}`).toString("base64")}`;
}

/** Reads a private_key_jwt key file's PEM into a KeyObject (start-up; the error names no key material). */
export function readAssertionKey(pem: string): KeyObject {
  return createPrivateKey(pem);
}

/**
 * RFC 7662 introspection of opaque tokens. The edge authenticates as a client with its certificate
 * (`tls_client_auth`, RFC 8705 §2), a signed assertion (`private_key_jwt`, RFC 7523) or a secret. Only
 * `"active": true` grants anything (RFC 7662 §2.2); `cnf` is read at the response's top level only (RFC 8705
 * §3.2). A response that is not a well-formed answer is an unavailable server, never a grant.
 */
export function createIntrospection(options: IntrospectionOptions) {
  const { config, introspection } = options;
  const auth = introspection.auth;

  async function endpoint(): Promise<string> {
    if (introspection.endpoint) return introspection.endpoint;
    const m = await options.metadata();
    const url = auth.method === "tls_client_auth" ? (m.mtlsIntrospectionEndpoint ?? m.introspectionEndpoint) : m.introspectionEndpoint;
    if (!url) throw new AuthorizationServerUnavailableError("the discovery document has no introspection_endpoint");
    return url;
  }

  async function clientAuthentication(form: URLSearchParams, headers: Record<string, string>): Promise<void> {
    switch (auth.method) {
      case "client_secret_basic":
        headers.authorization = basicCredentials(auth.clientId, auth.clientSecret!);
        return;
      case "client_secret_post":
        form.set("client_id", auth.clientId);
        form.set("client_secret", auth.clientSecret!);
        return;
      case "tls_client_auth":
        form.set("client_id", auth.clientId);
        return;
      case "private_key_jwt": {
        const now = Math.floor(options.now() / 1000);
        // FAPI 1 Part 2 §5.2.2: the assertion's audience is the issuer.
        const assertion = await new SignJWT({})
          .setProtectedHeader({ alg: auth.algorithm, ...(auth.kid ? { kid: auth.kid } : {}) })
          .setIssuer(auth.clientId)
          .setSubject(auth.clientId)
          .setAudience(config.issuer)
          .setJti(randomUUID())
          .setIssuedAt(now)
          .setExpirationTime(now + 60)
          .sign(options.assertionKey!);
        form.set("client_id", auth.clientId);
        form.set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
        form.set("client_assertion", assertion);
        return;
      }
    }
  }

  return async function introspect(token: string): Promise<TokenOutcome> {
    let doc: Record<string, unknown>;
    try {
      const url = await endpoint();
      const form = new URLSearchParams({ token, token_type_hint: "access_token" });
      const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded", accept: "application/json" };
      await clientAuthentication(form, headers);
      const res = await options.http.exchange(url, { method: "POST", headers, body: form.toString() });
      if (res.status === 401 || res.status === 403)
        throw new AuthorizationServerUnavailableError(`the introspection endpoint refused the edge's client authentication (${auth.method}, HTTP ${res.status})`);
      if (res.status !== 200) throw new AuthorizationServerUnavailableError(`authorization server unavailable: introspection answered HTTP ${res.status}`);
      doc = jsonObject(res.body, "the introspection response");
    } catch (err) {
      if (err instanceof AuthorizationServerUnavailableError) return rejected("AUTHORIZATION_SERVER_UNAVAILABLE", err.message, false);
      throw err;
    }
    if (typeof doc.active !== "boolean") return rejected("AUTHORIZATION_SERVER_UNAVAILABLE", "the introspection response has no boolean 'active' (RFC 7662 §2.2)", false);
    if (!doc.active) return rejected("TOKEN_INACTIVE", "the authorization server reports the token inactive (RFC 7662 §2.2)");
    const now = options.now();
    const skew = config.clockSkewSeconds;
    const { exp, nbf, iss, scope, client_id: clientId, sub } = doc;
    if (exp !== undefined && typeof exp !== "number") return rejected("TOKEN_CLAIMS_INVALID", "introspection exp is not a number");
    if (nbf !== undefined && typeof nbf !== "number") return rejected("TOKEN_CLAIMS_INVALID", "introspection nbf is not a number");
    if (scope !== undefined && typeof scope !== "string") return rejected("TOKEN_CLAIMS_INVALID", "introspection scope is not a string");
    if (clientId !== undefined && typeof clientId !== "string") return rejected("TOKEN_CLAIMS_INVALID", "introspection client_id is not a string");
    if (sub !== undefined && typeof sub !== "string") return rejected("TOKEN_CLAIMS_INVALID", "introspection sub is not a string");
    if (iss !== undefined && iss !== config.issuer) return rejected("TOKEN_ISSUER_INVALID", "introspection iss is not the configured authorization server");
    if (exp !== undefined && exp * 1000 <= now - skew * 1000) return rejected("TOKEN_EXPIRED", "the token's exp has passed");
    if (nbf !== undefined && nbf * 1000 > now + skew * 1000) return rejected("TOKEN_NOT_YET_VALID", "the token's nbf is in the future", false);
    return {
      ok: true,
      token: { source: "introspection", clientId, sub, scope, scopes: scopesOf(scope), exp, confirmation: readConfirmation(doc.cnf) },
      // RFC 7662 §4: never cached beyond its exp.
      until: Math.min(exp === undefined ? Number.POSITIVE_INFINITY : exp * 1000 + skew * 1000, now + config.cache.maxTtlMs),
    };
  };
}
