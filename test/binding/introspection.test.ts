import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK, exportPKCS8, generateKeyPair } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startBindingStack, type BindingStack, type ErrorBody } from "../helpers/binding.js";
import { testPki } from "../helpers/edge.js";

/**
 * RFC 7662 introspection of opaque tokens (docs/architecture.md §Token binding) against a real authorization-server stub that
 * authenticates the edge: `cnf` is read at the top level only (RFC 8705 §3.2), only `"active": true` grants,
 * results are remembered until `exp` and never beyond (RFC 7662 §4), and concurrent requests share one call.
 */

let pki: TestPkiManifest;

beforeAll(async () => {
  pki = await testPki();
});

async function rejected(s: BindingStack, res: Awaited<ReturnType<BindingStack["call"]>>, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.json<ErrorBody>().errors[0]!.code).toBe(code);
  expect(s.backend.received).toHaveLength(0);
  return res;
}

describe("introspection with client_secret_basic", () => {
  let s: BindingStack;

  beforeAll(async () => {
    s = await startBindingStack({
      pki,
      stub: { clients: [{ clientId: "edge", secret: "s3cret:with/odd chars" }] },
      authorizationServer: () => ({ introspection: { auth: { method: "client_secret_basic", clientId: "edge", clientSecret: "s3cret:with/odd chars" } } }),
    });
  });

  afterAll(async () => {
    await s?.close();
  });

  beforeEach(() => {
    s.backend.received.length = 0;
    s.clock.now = Date.now();
    s.stub.setAvailable(true);
    s.stub.setIntrospectionDelay(0);
  });

  const active = (extra: Record<string, unknown> = {}) => ({ active: true, client_id: "client-a", scope: "accounts", exp: Math.floor(Date.now() / 1000) + 300, ...extra });

  it("an active token bound to the presented certificate is forwarded; a second request does not introspect again", async () => {
    const token = s.stub.issueOpaque(active({ cnf: { "x5t#S256": s.thumbprint("participant-a") } }));
    const before = s.stub.counts.introspection;
    expect((await s.call("participant-a", token)).status).toBe(200);
    expect((await s.call("participant-a", token)).status).toBe(200);
    expect(s.stub.counts.introspection - before).toBe(1);
    expect(s.backend.received[0]!.headers.authorization).toBe(`Bearer ${token}`);
    expect(s.backend.received[0]!.headers["x-ofb-client-id"]).toBe("client-a");
  });

  it("inactive: 401 invalid_token TOKEN_INACTIVE, remembered briefly (no second call)", async () => {
    const token = s.stub.issueOpaque({ active: false });
    const before = s.stub.counts.introspection;
    const res = await rejected(s, await s.call("participant-a", token), 401, "TOKEN_INACTIVE");
    expect(res.headers["www-authenticate"]).toContain('error="invalid_token"');
    await rejected(s, await s.call("participant-a", token), 401, "TOKEN_INACTIVE");
    expect(s.stub.counts.introspection - before).toBe(1);
  });

  it("an unknown token (the server answers active:false)", async () => {
    await rejected(s, await s.call("participant-a", "c29tZS1vcGFxdWUtdG9rZW4"), 401, "TOKEN_INACTIVE");
  });

  it("active but bound to another certificate: 401 TOKEN_BINDING_MISMATCH", async () => {
    const token = s.stub.issueOpaque(active({ cnf: { "x5t#S256": s.thumbprint("participant-b") } }));
    await rejected(s, await s.call("participant-a", token), 401, "TOKEN_BINDING_MISMATCH");
  });

  it("active without cnf: 401 TOKEN_UNBOUND", async () => {
    await rejected(s, await s.call("participant-a", s.stub.issueOpaque(active())), 401, "TOKEN_UNBOUND");
  });

  it("cnf nested below the top level does not count (RFC 8705 §3.2)", async () => {
    const token = s.stub.issueOpaque(active({ ext: { cnf: { "x5t#S256": s.thumbprint("participant-a") } } }));
    await rejected(s, await s.call("participant-a", token), 401, "TOKEN_UNBOUND");
  });

  it("a padded thumbprint in the introspection response: 401 TOKEN_BINDING_MALFORMED", async () => {
    const token = s.stub.issueOpaque(active({ cnf: { "x5t#S256": `${s.thumbprint("participant-a")}=` } }));
    await rejected(s, await s.call("participant-a", token), 401, "TOKEN_BINDING_MALFORMED");
  });

  it('"active": "true" (a string) is not a grant: 503, never fail open', async () => {
    const token = s.stub.issueOpaque({ active: "true", cnf: { "x5t#S256": s.thumbprint("participant-a") } });
    await rejected(s, await s.call("participant-a", token), 503, "AUTHORIZATION_SERVER_UNAVAILABLE");
  });

  it("a response with another iss: 401 TOKEN_ISSUER_INVALID", async () => {
    const token = s.stub.issueOpaque(active({ iss: "https://other.example", cnf: { "x5t#S256": s.thumbprint("participant-a") } }));
    await rejected(s, await s.call("participant-a", token), 401, "TOKEN_ISSUER_INVALID");
  });

  it("a result is remembered until exp and not beyond: after exp the edge asks again and refuses", async () => {
    const exp = Math.floor(Date.now() / 1000) + 60;
    const token = s.stub.issueOpaque(active({ exp, cnf: { "x5t#S256": s.thumbprint("participant-a") } }));
    const before = s.stub.counts.introspection;
    s.clock.now = exp * 1000 - 1000;
    expect((await s.call("participant-a", token)).status).toBe(200);
    s.backend.received.length = 0;
    s.clock.now = exp * 1000;
    await rejected(s, await s.call("participant-a", token), 401, "TOKEN_EXPIRED");
    expect(s.stub.counts.introspection - before).toBe(2);
  });

  it("concurrent requests with the same unseen token cause one introspection (single-flight)", async () => {
    const token = s.stub.issueOpaque(active({ cnf: { "x5t#S256": s.thumbprint("participant-a") } }));
    s.stub.setIntrospectionDelay(200);
    const before = s.stub.counts.introspection;
    const results = await Promise.all(Array.from({ length: 6 }, () => s.call("participant-a", token)));
    expect(results.map((r) => r.status)).toEqual(Array(6).fill(200));
    expect(s.stub.counts.introspection - before).toBe(1);
  });

  it("introspection endpoint down: cached results keep working, unseen tokens get 503 with a distinct code", async () => {
    const cached = s.stub.issueOpaque(active({ cnf: { "x5t#S256": s.thumbprint("participant-a") } }));
    expect((await s.call("participant-a", cached)).status).toBe(200);
    s.backend.received.length = 0;
    s.stub.setAvailable(false);
    const unseen = s.stub.issueOpaque(active({ cnf: { "x5t#S256": s.thumbprint("participant-a") } }));
    const res = await rejected(s, await s.call("participant-a", unseen), 503, "AUTHORIZATION_SERVER_UNAVAILABLE");
    expect(res.headers["www-authenticate"]).toBeUndefined();
    expect(res.headers["retry-after"]).toBe("5");
    expect((await s.call("participant-a", cached)).status).toBe(200);
    // Unavailability is not remembered: once the server is back, the same token is introspected and accepted.
    s.stub.setAvailable(true);
    expect((await s.call("participant-a", unseen)).status).toBe(200);
  });

  it("JWT-shaped tokens are still verified locally in auto format (no introspection call)", async () => {
    const before = s.stub.counts.introspection;
    const jwt = await s.stub.issueJwt({ thumbprint: s.thumbprint("participant-a") });
    expect((await s.call("participant-a", jwt)).status).toBe(200);
    expect(s.stub.counts.introspection).toBe(before);
  });
});

describe("the edge authenticates to the introspection endpoint", () => {
  const boundActive = (s: BindingStack) => ({ active: true, exp: Math.floor(Date.now() / 1000) + 300, cnf: { "x5t#S256": s.thumbprint("participant-a") } });

  it("client_secret_post", async () => {
    const s = await startBindingStack({
      pki,
      stub: { clients: [{ clientId: "edge", secret: "post-secret" }] },
      authorizationServer: () => ({ format: "introspection", introspection: { auth: { method: "client_secret_post", clientId: "edge", clientSecret: "post-secret" } } }),
    });
    try {
      const jwtShaped = await s.stub.issueJwt({ thumbprint: s.thumbprint("participant-a") });
      // format introspection: even a JWT is introspected (the stub does not know it: inactive).
      expect((await s.call("participant-a", jwtShaped)).status).toBe(401);
      expect((await s.call("participant-a", s.stub.issueOpaque(boundActive(s)))).status).toBe(200);
      expect(s.stub.counts.introspection).toBe(2);
    } finally {
      await s.close();
    }
  });

  it("a wrong secret: the endpoint answers 401, the edge answers 503 (its own configuration problem) and logs it", async () => {
    const s = await startBindingStack({
      pki,
      stub: { clients: [{ clientId: "edge", secret: "right" }] },
      authorizationServer: () => ({ introspection: { auth: { method: "client_secret_basic", clientId: "edge", clientSecret: "wrong" } } }),
    });
    try {
      await rejected(s, await s.call("participant-a", s.stub.issueOpaque(boundActive(s))), 503, "AUTHORIZATION_SERVER_UNAVAILABLE");
      expect(s.edge.logs.some((l) => l.kind === "binding" && String(l.detail).includes("refused the edge's client authentication"))).toBe(true);
      expect(JSON.stringify(s.edge.logs)).not.toContain("wrong");
    } finally {
      await s.close();
    }
  });

  it("private_key_jwt (RFC 7523 assertion signed with the configured key)", async () => {
    const { privateKey, publicKey } = await generateKeyPair("PS256", { extractable: true });
    const dir = mkdtempSync(join(tmpdir(), "ofb-edge-pkjwt-"));
    const keyFile = join(dir, "assertion-key.pem");
    writeFileSync(keyFile, await exportPKCS8(privateKey));
    const s = await startBindingStack({
      pki,
      stub: { clients: [{ clientId: "edge-pkjwt", jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: "k1", alg: "PS256" }] } }] },
      authorizationServer: () => ({ introspection: { auth: { method: "private_key_jwt", clientId: "edge-pkjwt", key: keyFile, kid: "k1" } } }),
    });
    try {
      expect((await s.call("participant-a", s.stub.issueOpaque(boundActive(s)))).status).toBe(200);
      expect(s.stub.counts.introspection).toBe(1);
    } finally {
      await s.close();
    }
  });

  it("tls_client_auth (the edge's own certificate, over HTTPS, endpoint from mtls_endpoint_aliases)", async () => {
    const edgeClient = pki.clients["participant-c"]!;
    const s = await startBindingStack({
      pki,
      stub: {
        tls: { cert: readFileSync(pki.server.cert, "utf8"), key: readFileSync(pki.server.key, "utf8"), ca: readFileSync(pki.trustAnchors, "utf8") },
        clients: [{ clientId: "edge-mtls", certificateThumbprint: edgeClient.thumbprint }],
      },
      authorizationServer: () => ({ caFile: pki.trustAnchors, introspection: { auth: { method: "tls_client_auth", clientId: "edge-mtls", cert: edgeClient.chain, key: edgeClient.key } } }),
    });
    try {
      expect(s.stub.issuer).toMatch(/^https:\/\/localhost:/);
      expect((await s.call("participant-a", s.stub.issueOpaque(boundActive(s)))).status).toBe(200);
      expect(s.stub.counts.introspection).toBe(1);
    } finally {
      await s.close();
    }
  });
});
