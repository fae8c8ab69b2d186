import { randomUUID, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { Agent, request } from "node:https";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startAuthorizationServerStub, type AuthorizationServerStub } from "../../src/dev/authorization-server.js";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest } from "../helpers/client.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";

/**
 * A `trusted-proxy` listener behind another TLS terminator (issue: input profiles): the client certificate comes
 * from the terminator's fields, decoded with a profile, believed only from the terminator's addresses or its
 * verified certificate; then path validation, OFB policy, identity and token binding run unchanged. From anyone
 * else the fields are stripped and the request has no certificate.
 */

const ACCOUNTS = "/open-banking/accounts/v2/accounts";
let pki: TestPkiManifest;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
let as: AuthorizationServerStub;

const pemOf = (file: string) => readFileSync(file, "utf8").match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)!;
const derB64 = (pem: string) => new X509Certificate(pem).raw.toString("base64");
/** What the terminator in front forwards for a client, per profile. */
function forwarded(client: string) {
  const [leaf, ac] = pemOf(pki.clients[client]!.chain) as [string, string];
  return {
    rfc9440: { "client-cert": `:${derB64(leaf)}:`, "client-cert-chain": `:${derB64(ac)}:` },
    alb: { "x-amzn-mtls-clientcert": encodeURIComponent(leaf + ac).replace(/%2B/g, "+").replace(/%3D/g, "=").replace(/%2F/g, "/") },
    xfcc: (earlierHop: string) => ({ "x-forwarded-client-cert": `${earlierHop},Hash=00;Cert="${encodeURIComponent(leaf)}";Chain="${encodeURIComponent(leaf + ac)}";Subject="CN=x"` }),
  };
}

async function edgeWith(trustedProxy: Record<string, unknown>, extra: { authorizationServer?: { issuer: string } } = {}) {
  const tls = { cert: pki.server.cert, key: pki.server.key, trustAnchors: [pki.trustAnchors] };
  return startTestEdge({
    pki,
    upstream: backend.url,
    listeners: [{ name: "behind-cdn", host: "127.0.0.1", port: 0, mode: "trusted-proxy", tls, trustedProxy: trustedProxy as never }],
    routes: [
      { name: "open-banking", pathPrefix: "/open-banking/", upstream: backend.url },
      { name: "public", pathPrefix: "/.well-known/", upstream: backend.url, mtls: "optional", interactionId: "generate" },
    ],
    ...(extra.authorizationServer ? { authorizationServer: { ...extra.authorizationServer, clockSkewSeconds: 0 } } : {}),
  });
}

beforeAll(async () => {
  pki = await testPki();
  backend = await startRecordingBackend();
  as = await startAuthorizationServerStub();
});

afterAll(async () => {
  await backend?.close();
  await as?.close();
});

beforeEach(() => {
  backend.received.length = 0;
});

const call = (port: number, headers: Record<string, string | string[]>, path = ACCOUNTS, credentials?: { cert: Buffer; key: Buffer }) =>
  httpsRequest({ pki, port, path, headers, credentials });
const code = (res: { json<T>(): T }) => res.json<{ errors: { code: string }[] }>().errors[0]!.code;

describe("from a trusted address (sources)", () => {
  let edge: Awaited<ReturnType<typeof startTestEdge>>;
  beforeAll(async () => {
    edge = await edgeWith({ profile: "rfc9440", sources: ["127.0.0.0/8", "::1"] });
  });
  afterAll(async () => edge?.close());

  it("the forwarded certificate is the client's: identity forwarded, the terminator's fields replaced by the edge's own", async () => {
    const f = forwarded("participant-a").rfc9440;
    const res = await call(edge.port, f);
    expect(res.status).toBe(200);
    const h = backend.received[0]!.headers;
    expect(h["x-ofb-organisation-id"]).toBe(pki.clients["participant-a"]!.organisationId);
    expect(h["x-ofb-x5t-s256"]).toBe(pki.clients["participant-a"]!.thumbprint);
    expect(h["client-cert"]).toBe(f["client-cert"]);
    expect(backend.received[0]!.rawHeaders.filter((n) => n.toLowerCase() === "client-cert")).toHaveLength(1);
  });

  it.each([
    ["no-eku", "CERT_EKU_CLIENT_AUTH_MISSING"],
    ["other-ca", "CERT_UNTRUSTED"],
    ["self-signed", "CERT_SELF_SIGNED"],
    ["expired", "CERT_EXPIRED"],
    ["no-uid", "IDENTITY_SOFTWARE_STATEMENT_MISSING"],
    ["non-ca-issuer", "CERT_CHAIN_INVALID"],
    ["pathlen-exceeded", "CERT_CHAIN_INVALID"],
    ["unknown-critical-extension", "CERT_CHAIN_INVALID"],
    ["sha1", "CERT_SIGNATURE_WEAK"],
    ["rsa-1024", "CERT_KEY_TOO_WEAK"],
  ])("policy and identity run on the forwarded certificate: %s → %s, nothing forwarded", async (client, expected) => {
    const [leaf, ...rest] = pemOf(pki.clients[client]!.chain);
    const headers: Record<string, string> = { "client-cert": `:${derB64(leaf!)}:` };
    if (rest.length > 0) headers["client-cert-chain"] = rest.map((p) => `:${derB64(p)}:`).join(", ");
    const res = await call(edge.port, headers);
    expect(res.status).toBe(401);
    expect(code(res)).toBe(expected);
    expect(backend.received).toHaveLength(0);
  });

  it("a malformed or repeated Client-Cert is CERT_MALFORMED, not a crash", async () => {
    for (const headers of [{ "client-cert": ":not base64!:" }, { "client-cert": ":AAAA:" }, { "client-cert": [forwarded("participant-a").rfc9440["client-cert"], forwarded("participant-b").rfc9440["client-cert"]] }]) {
      const res = await call(edge.port, headers);
      expect(res.status).toBe(401);
      expect(code(res)).toBe("CERT_MALFORMED");
    }
    expect(backend.received).toHaveLength(0);
  });

  it("a chain split over repeated Client-Cert-Chain lines is joined (RFC 9440 §2.3)", async () => {
    const f = forwarded("participant-a").rfc9440;
    expect((await call(edge.port, { "client-cert": f["client-cert"], "client-cert-chain": [f["client-cert-chain"]] })).status).toBe(200);
  });

  it("one kept-alive terminator connection carries many clients: each request has its own identity", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: readFileSync(pki.trustAnchors) });
    const get = (headers: Record<string, string>) =>
      new Promise<{ status: number; port: number | undefined }>((resolve, reject) => {
        const req = request({ agent, host: "127.0.0.1", servername: "localhost", port: edge.port, path: ACCOUNTS, headers: { "x-fapi-interaction-id": randomUUID(), ...headers } }, (res) => {
          const port = res.socket.localPort;
          res.resume();
          res.on("end", () => resolve({ status: res.statusCode ?? 0, port }));
        });
        req.on("error", reject);
        req.end();
      });
    try {
      const a = await get(forwarded("participant-a").rfc9440);
      const b = await get(forwarded("participant-b").rfc9440);
      const none = await get({});
      expect([a.status, b.status, none.status]).toEqual([200, 200, 401]);
      expect(a.port).toBe(b.port);
      expect(backend.received.map((r) => r.headers["x-ofb-organisation-id"])).toEqual([pki.clients["participant-a"]!.organisationId, pki.clients["participant-b"]!.organisationId]);
    } finally {
      agent.destroy();
    }
  });
});

describe("from anyone else", () => {
  it("the fields are stripped and the request has no certificate", async () => {
    const edge = await edgeWith({ profile: "rfc9440", sources: ["10.0.0.0/8"] });
    try {
      const f = forwarded("participant-a").rfc9440;
      const res = await call(edge.port, f);
      expect(res.status).toBe(401);
      expect(code(res)).toBe("CERT_REQUIRED");
      expect(backend.received).toHaveLength(0);
      expect((await call(edge.port, f, "/.well-known/x")).status).toBe(200);
      expect(backend.received[0]!.headers["client-cert"]).toBeUndefined();
      expect(backend.received[0]!.headers["x-ofb-organisation-id"]).toBeUndefined();
    } finally {
      await edge.close();
    }
  });
});

describe("over mTLS from the terminator (clientTrustAnchors)", () => {
  it("a connection presenting the terminator's verified certificate is trusted; one without is not", async () => {
    const edge = await edgeWith({ profile: "rfc9440", clientTrustAnchors: [pki.trustAnchors] });
    try {
      const f = forwarded("participant-a").rfc9440;
      expect((await call(edge.port, f, ACCOUNTS, clientCredentials(pki, "participant-c"))).status).toBe(200);
      const res = await call(edge.port, f);
      expect(res.status).toBe(401);
      expect(code(res)).toBe("CERT_REQUIRED");
    } finally {
      await edge.close();
    }
  });
});

describe("other terminators' formats (decode direction)", () => {
  it("AWS ALB passthrough: the whole chain, '+' kept as '+' (never form-decoded)", async () => {
    const edge = await edgeWith({ profile: "aws-alb-passthrough", sources: ["127.0.0.1"] });
    try {
      const value = forwarded("participant-a").alb["x-amzn-mtls-clientcert"];
      expect(value).toContain("+");
      expect((await call(edge.port, { "x-amzn-mtls-clientcert": value })).status).toBe(200);
      expect(backend.received[0]!.headers["x-ofb-organisation-id"]).toBe(pki.clients["participant-a"]!.organisationId);
    } finally {
      await edge.close();
    }
  });

  it("Envoy XFCC: the nearest hop's element (the last) is the client", async () => {
    const edge = await edgeWith({ profile: "envoy-xfcc", sources: ["127.0.0.1"] });
    try {
      const b = forwarded("participant-b").rfc9440["client-cert"];
      const earlier = `Hash=11;Cert="${encodeURIComponent(`-----BEGIN CERTIFICATE-----\n${b.slice(1, -1)}\n-----END CERTIFICATE-----\n`)}"`;
      expect((await call(edge.port, forwarded("participant-a").xfcc(earlier))).status).toBe(200);
      expect(backend.received[0]!.headers["x-ofb-organisation-id"]).toBe(pki.clients["participant-a"]!.organisationId);
    } finally {
      await edge.close();
    }
  });

  it("Apache's (null) means no certificate", async () => {
    const edge = await edgeWith({ profile: "apache-modssl", sources: ["127.0.0.1"] });
    try {
      const res = await call(edge.port, { "x-ssl-client-cert": "(null)" });
      expect(res.status).toBe(401);
      expect(code(res)).toBe("CERT_REQUIRED");
    } finally {
      await edge.close();
    }
  });
});

describe("token binding runs on the forwarded certificate", () => {
  it("a token bound to the forwarded certificate passes; the same token with another forwarded certificate is 401", async () => {
    const edge = await edgeWith({ profile: "rfc9440", sources: ["127.0.0.1"] }, { authorizationServer: { issuer: as.issuer } });
    try {
      const token = await as.issueJwt({ thumbprint: pki.clients["participant-a"]!.thumbprint });
      expect((await call(edge.port, { ...forwarded("participant-a").rfc9440, authorization: `Bearer ${token}` })).status).toBe(200);
      const res = await call(edge.port, { ...forwarded("participant-b").rfc9440, authorization: `Bearer ${token}` });
      expect(res.status).toBe(401);
      expect(code(res)).toBe("TOKEN_BINDING_MISMATCH");
    } finally {
      await edge.close();
    }
  });
});

describe("configuration", () => {
  it("a source that is not an address or CIDR block, and an unknown profile, stop start-up naming the key", async () => {
    await expect(edgeWith({ profile: "rfc9440", sources: ["10.0.0.0/33"] })).rejects.toThrow(/listeners\[0\]\.trustedProxy\.sources\[0\]/);
    await expect(edgeWith({ profile: "no-such-profile", sources: ["127.0.0.1"] })).rejects.toThrow(/listeners\[0\]\.trustedProxy\.profile/);
    await expect(edgeWith({ profile: "ofb-identity", sources: ["127.0.0.1"] })).rejects.toThrow(/no leaf, chain or xfcc field/);
  });
});
