import { randomUUID } from "node:crypto";
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { ACCOUNTS, startBindingStack, type BindingStack, type ErrorBody } from "../helpers/binding.js";
import { testPki } from "../helpers/edge.js";

/**
 * RFC 8705 §3 for JWT access tokens (docs/architecture.md §Token binding), against a real authorization-server stub (discovery, JWK Set)
 * and a real edge and backend: a token bound to the presented certificate passes; every other token is a
 * 401 with `WWW-Authenticate: Bearer error="invalid_token"` and the OFB error body, and never reaches the backend.
 */

let pki: TestPkiManifest;
let s: BindingStack;

beforeAll(async () => {
  pki = await testPki();
  s = await startBindingStack({ pki });
});

afterAll(async () => {
  await s?.close();
});

beforeEach(() => {
  s.backend.received.length = 0;
  s.clock.now = Date.now();
});

async function expectRejected(res: Awaited<ReturnType<BindingStack["call"]>>, code: string, status = 401) {
  expect(res.status).toBe(status);
  expect(res.headers["content-type"]).toBe("application/json; charset=utf-8");
  expect(res.json<ErrorBody>().errors[0]!.code).toBe(code);
  expect(s.backend.received).toHaveLength(0);
}

describe("a JWT bound to the presented certificate", () => {
  it("is accepted and forwarded unchanged, with its client_id for the backend", async () => {
    const token = await s.stub.issueJwt({ thumbprint: s.thumbprint("participant-a"), claims: { client_id: "client-a", scope: "accounts" } });
    const res = await s.call("participant-a", token);
    expect(res.status).toBe(200);
    expect(s.backend.received).toHaveLength(1);
    expect(s.backend.received[0]!.headers.authorization).toBe(`Bearer ${token}`);
    expect(s.backend.received[0]!.headers["x-ofb-client-id"]).toBe("client-a");
  });

  it("is verified once: the same token again is a cache hit (no second verification)", async () => {
    const token = await s.stub.issueJwt({ thumbprint: s.thumbprint("participant-a") });
    const before = { ...s.edge.edge.tokens!.stats };
    expect((await s.call("participant-a", token)).status).toBe(200);
    expect((await s.call("participant-a", token)).status).toBe(200);
    const after = s.edge.edge.tokens!.stats;
    expect(after.verifications - before.verifications).toBe(1);
    expect(after.hits - before.hits).toBe(1);
  });

  it("concurrent requests with the same unseen token share one verification (single-flight)", async () => {
    const token = await s.stub.issueJwt({ thumbprint: s.thumbprint("participant-a") });
    const before = s.edge.edge.tokens!.stats.verifications;
    const results = await Promise.all(Array.from({ length: 8 }, () => s.call("participant-a", token)));
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(s.edge.edge.tokens!.stats.verifications - before).toBe(1);
  });

  it("the keys came from discovery: one discovery document and one JWK Set fetch for all of the above", () => {
    expect(s.stub.counts.discovery).toBe(1);
    expect(s.stub.counts.jwks).toBe(1);
  });

  it("a spoofed x-ofb-client-id from the client is replaced by the token's", async () => {
    const token = await s.stub.issueJwt({ thumbprint: s.thumbprint("participant-a"), claims: { client_id: "client-a" } });
    const res = await s.call("participant-a", token, { headers: { "x-ofb-client-id": "spoofed" } });
    expect(res.status).toBe(200);
    expect(s.backend.received[0]!.rawHeaders.filter((h) => h.toLowerCase() === "x-ofb-client-id")).toHaveLength(1);
    expect(s.backend.received[0]!.headers["x-ofb-client-id"]).toBe("client-a");
  });
});

describe("binding refusals: 401 invalid_token, nothing forwarded", () => {
  it("a token bound to another participant's certificate", async () => {
    const token = await s.stub.issueJwt({ thumbprint: s.thumbprint("participant-b") });
    const res = await s.call("participant-a", token);
    await expectRejected(res, "TOKEN_BINDING_MISMATCH");
    expect(res.headers["www-authenticate"]).toMatch(/^Bearer error="invalid_token", error_description="[^"]+"$/);
  });

  it.each([
    ["no cnf", undefined, "TOKEN_UNBOUND"],
    ["an empty cnf", {}, "TOKEN_UNBOUND"],
    ["a padded thumbprint", (t: string) => ({ "x5t#S256": `${t}=` }), "TOKEN_BINDING_MALFORMED"],
    ["a hex thumbprint", (t: string) => ({ "x5t#S256": Buffer.from(t, "base64url").toString("hex") }), "TOKEN_BINDING_MALFORMED"],
    // The base64 form of a digest differs from base64url only where '+' or '/' occur: force one in.
    ["a base64 (not base64url) thumbprint", (t: string) => ({ "x5t#S256": `+${Buffer.from(t, "base64url").toString("base64").replace(/=+$/, "").slice(1)}` }), "TOKEN_BINDING_MALFORMED"],
    ["a numeric thumbprint", { "x5t#S256": 12345 }, "TOKEN_BINDING_MALFORMED"],
    ["cnf as a string", "x5t#S256", "TOKEN_BINDING_MALFORMED"],
    ["jkt (DPoP) only", { jkt: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I" }, "TOKEN_BINDING_UNSUPPORTED"],
    ["x5t (SHA-1) only", { x5t: "KmvSuw1lmXcYF0MaZK2i2lkDx0c" }, "TOKEN_BINDING_UNSUPPORTED"],
    ["x5t#S256 and jkt together", (t: string) => ({ "x5t#S256": t, jkt: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I" }), "TOKEN_BINDING_MALFORMED"],
  ] as const)("%s", async (_name, cnf, code) => {
    const thumb = s.thumbprint("participant-a");
    const claims: JWTPayload = cnf === undefined ? {} : { cnf: typeof cnf === "function" ? cnf(thumb) : cnf };
    const token = await s.stub.issueJwt({ claims });
    const res = await s.call("participant-a", token);
    await expectRejected(res, code);
    expect(res.headers["www-authenticate"]).toContain('error="invalid_token"');
  });

  it("a bound token on a connection without a client certificate (optional-mTLS route in enforce mode)", async () => {
    const token = await s.stub.issueJwt({ thumbprint: s.thumbprint("participant-a") });
    await expectRejected(await s.call(null, token, { path: "/optional-bound/x" }), "TOKEN_BINDING_MISMATCH");
    expect((await s.call("participant-a", token, { path: "/optional-bound/x" })).status).toBe(200);
  });
});

describe("token verification refusals: 401 invalid_token, nothing forwarded", () => {
  it("expired at the exact second of exp (injected clock, skew 0); accepted one millisecond before", async () => {
    const exp = Math.floor(Date.now() / 1000) + 120;
    const token = await s.stub.issueJwt({ thumbprint: s.thumbprint("participant-a"), claims: { exp } });
    s.clock.now = exp * 1000 - 1;
    expect((await s.call("participant-a", token)).status).toBe(200);
    s.backend.received.length = 0;
    s.clock.now = exp * 1000;
    await expectRejected(await s.call("participant-a", token), "TOKEN_EXPIRED");
  });

  it("not yet valid (nbf in the future)", async () => {
    const token = await s.stub.issueJwt({ thumbprint: s.thumbprint("participant-a"), claims: { nbf: Math.floor(Date.now() / 1000) + 60 } });
    await expectRejected(await s.call("participant-a", token), "TOKEN_NOT_YET_VALID");
  });

  it("without exp", async () => {
    const token = await s.stub.issueJwt({ thumbprint: s.thumbprint("participant-a"), claims: { exp: undefined } });
    await expectRejected(await s.call("participant-a", token), "TOKEN_CLAIMS_INVALID");
  });

  it("a bad signature (the stub's kid, another key)", async () => {
    const { privateKey } = await generateKeyPair("PS256");
    const token = await new SignJWT({ iss: s.stub.issuer, exp: Math.floor(Date.now() / 1000) + 300, cnf: { "x5t#S256": s.thumbprint("participant-a") } })
      .setProtectedHeader({ alg: "PS256", kid: s.stub.kid })
      .sign(privateKey);
    await expectRejected(await s.call("participant-a", token), "TOKEN_SIGNATURE_INVALID");
  });

  it("a tampered payload (claims changed after signing)", async () => {
    const token = await s.stub.issueJwt({ thumbprint: s.thumbprint("participant-b") });
    const [h, , sig] = token.split(".");
    const payload = Buffer.from(JSON.stringify({ iss: s.stub.issuer, exp: Math.floor(Date.now() / 1000) + 300, cnf: { "x5t#S256": s.thumbprint("participant-a") } })).toString("base64url");
    await expectRejected(await s.call("participant-a", `${h}.${payload}.${sig}`), "TOKEN_SIGNATURE_INVALID");
  });

  it("an unknown kid: refetched at most once per cool-down, then refused", async () => {
    const { privateKey } = await generateKeyPair("PS256");
    const sign = () =>
      new SignJWT({ iss: s.stub.issuer, exp: Math.floor(Date.now() / 1000) + 300, jti: randomUUID(), cnf: { "x5t#S256": s.thumbprint("participant-a") } })
        .setProtectedHeader({ alg: "PS256", kid: "not-a-key-of-the-server" })
        .sign(privateKey);
    const fetches = s.stub.counts.jwks;
    await expectRejected(await s.call("participant-a", await sign()), "TOKEN_KEY_UNKNOWN");
    await expectRejected(await s.call("participant-a", await sign()), "TOKEN_KEY_UNKNOWN");
    expect(s.stub.counts.jwks - fetches).toBeLessThanOrEqual(1);
  });

  it("alg none", async () => {
    const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const token = `${part({ alg: "none", typ: "at+jwt" })}.${part({ iss: s.stub.issuer, exp: Math.floor(Date.now() / 1000) + 300, cnf: { "x5t#S256": s.thumbprint("participant-a") } })}.`;
    await expectRejected(await s.call("participant-a", token), "TOKEN_ALGORITHM_NOT_ALLOWED");
  });

  it("HS256 keyed with the server's public key (algorithm confusion)", async () => {
    const res = await fetch(s.stub.jwksUri);
    const { keys } = (await res.json()) as { keys: { n: string }[] };
    const token = await new SignJWT({ iss: s.stub.issuer, exp: Math.floor(Date.now() / 1000) + 300, cnf: { "x5t#S256": s.thumbprint("participant-a") } })
      .setProtectedHeader({ alg: "HS256", kid: s.stub.kid })
      .sign(Buffer.from(keys[0]!.n));
    await expectRejected(await s.call("participant-a", token), "TOKEN_ALGORITHM_NOT_ALLOWED");
  });

  it("RS256 with the server's own key when only PS256 is configured", async () => {
    const { privateKey, publicKey } = await generateKeyPair("RS256");
    expect((await exportJWK(publicKey)).kty).toBe("RSA");
    const token = await new SignJWT({ iss: s.stub.issuer, exp: Math.floor(Date.now() / 1000) + 300 }).setProtectedHeader({ alg: "RS256", kid: s.stub.kid }).sign(privateKey);
    await expectRejected(await s.call("participant-a", token), "TOKEN_ALGORITHM_NOT_ALLOWED");
  });

  it("a wrong iss", async () => {
    const token = await s.stub.issueJwt({ thumbprint: s.thumbprint("participant-a"), claims: { iss: "https://other-as.example" } });
    await expectRejected(await s.call("participant-a", token), "TOKEN_ISSUER_INVALID");
  });

  it("not a JWT, with no introspection configured", async () => {
    await expectRejected(await s.call("participant-a", "opaque-token-value"), "TOKEN_MALFORMED");
  });

  it("a correctly signed JWS whose payload is not a JSON object", async () => {
    await expectRejected(await s.call("participant-a", await s.stub.signRaw("not json")), "TOKEN_MALFORMED");
    await expectRejected(await s.call("participant-a", await s.stub.signRaw("[1,2]")), "TOKEN_MALFORMED");
  });

  it("a JWS with a forged payload that is not JSON fails on the signature first", async () => {
    const part = (t: string) => Buffer.from(t).toString("base64url");
    await expectRejected(await s.call("participant-a", `${part(JSON.stringify({ alg: "PS256", kid: s.stub.kid }))}.${part("not json")}.${part("sig")}`), "TOKEN_SIGNATURE_INVALID");
  });
});

describe("per-route modes and scopes", () => {
  it("report: a token bound to another certificate is forwarded, logged and counted, without x-ofb-client-id", async () => {
    const token = await s.stub.issueJwt({ thumbprint: s.thumbprint("participant-b"), claims: { client_id: "client-b" } });
    const res = await s.call("participant-a", token, { path: "/report/accounts" });
    expect(res.status).toBe(200);
    expect(s.backend.received).toHaveLength(1);
    expect(s.backend.received[0]!.headers["x-ofb-client-id"]).toBeUndefined();
    expect(s.edge.logs.some((l) => l.kind === "binding" && l.code === "TOKEN_BINDING_MISMATCH" && l.route === "report")).toBe(true);
    expect(s.edge.logs.some((l) => l.kind === "access" && l.bindingReport === "TOKEN_BINDING_MISMATCH")).toBe(true);
    const metric = await s.edge.metrics.bindingReports.get();
    expect(metric.values.find((v) => v.labels.route === "report" && v.labels.code === "TOKEN_BINDING_MISMATCH")?.value).toBeGreaterThanOrEqual(1);
  });

  it("report: an unbound token is forwarded too", async () => {
    const token = await s.stub.issueJwt();
    expect((await s.call("participant-a", token, { path: "/report/accounts" })).status).toBe(200);
  });

  it("report: an invalid token is still refused (only the binding is reported)", async () => {
    const token = await s.stub.issueJwt({ thumbprint: s.thumbprint("participant-a"), claims: { iss: "https://other-as.example" } });
    await expectRejected(await s.call("participant-a", token, { path: "/report/accounts" }), "TOKEN_ISSUER_INVALID");
  });

  it("a missing required scope is 403 insufficient_scope naming the scope", async () => {
    const token = await s.stub.issueJwt({ thumbprint: s.thumbprint("participant-a"), claims: { scope: "openid accounts" } });
    const res = await s.call("participant-a", token, { path: "/scoped/pix/payments" });
    await expectRejected(res, "TOKEN_SCOPE_INSUFFICIENT", 403);
    expect(res.headers["www-authenticate"]).toMatch(/^Bearer error="insufficient_scope", error_description="[^"]+", scope="payments"$/);
  });

  it("with the required scope the request is forwarded", async () => {
    const token = await s.stub.issueJwt({ thumbprint: s.thumbprint("participant-a"), claims: { scope: "openid payments" } });
    expect((await s.call("participant-a", token, { path: "/scoped/pix/payments" })).status).toBe(200);
  });

  it("off: the route does not look at tokens", async () => {
    const res = await s.call("participant-a", null, { path: "/.well-known/openid-configuration" });
    expect(res.status).toBe(200);
  });

  it("the access log names the token's client_id, never the token", async () => {
    const token = await s.stub.issueJwt({ thumbprint: s.thumbprint("participant-a"), claims: { client_id: "logged-client" } });
    await s.call("participant-a", token, { path: ACCOUNTS });
    const line = s.edge.logs.find((l) => l.kind === "access" && l.clientId === "logged-client");
    expect(line).toBeDefined();
    expect(JSON.stringify(s.edge.logs)).not.toContain(token.split(".")[2]!);
  });
});
