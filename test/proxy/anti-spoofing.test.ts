import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { Agent } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { CLIENT_CERT_HEADERS } from "../../src/proxy/sanitize.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest } from "../helpers/client.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";

type Backend = Awaited<ReturnType<typeof startRecordingBackend>>;
type Edge = Awaited<ReturnType<typeof startTestEdge>>;

const SPOOF = "SPOOFED-by-the-client";

/**
 * Client-certificate fields from every product's documentation (RFC 9440, Envoy, nginx, HAProxy, AWS, Cloudflare, GCP, …), written independently of
 * src/proxy/sanitize.ts so that a name missing there fails here, plus underscore spellings that CGI-style
 * backends read as the dashed name.
 */
const WELL_KNOWN = [
  "Client-Cert",
  "Client-Cert-Chain",
  "X-Forwarded-Client-Cert",
  "X-Forward-Client-Cert",
  "ssl-client-cert",
  "ssl-client-verify",
  "ssl-client-subject-dn",
  "ssl-client-issuer-dn",
  "X-SSL-Client-Cert",
  "X-SSL-Client-DN",
  "X-SSL-Client-Verify",
  "X-SSL-Client-SHA1",
  "X-Amzn-Mtls-Clientcert",
  "X-Amzn-Mtls-Clientcert-Leaf",
  "X-Amzn-Mtls-Clientcert-Subject",
  "Cf-Client-Cert-Der-Base64",
  "Cf-Client-Cert-Sha256",
  "cf-cert-verified",
  "cf-cert-subject-dn",
  "cf-cert-fingerprint-sha256",
  "CloudFront-Viewer-Cert-Pem",
  "CloudFront-Viewer-Cert-Sha256",
  "X-ARR-ClientCert",
  "X-Forwarded-Tls-Client-Cert",
  "X-Forwarded-Tls-Client-Cert-Info",
  "X-Client-Cert",
  "X-Client-Cert-Dn",
  "X-Client-Cert-Fingerprint",
  "X-Client-Verify",
  "X-Client-DN",
  "X-Gravitee-Client-Cert",
  "Akamai-CC-DER",
  "SSLClientCertSerialNumber",
  "X-OFB-Organisation-Id",
  "X_SSL_Client_Cert",
  "Client_Cert",
  "X_Forwarded_Client_Cert",
  ...CLIENT_CERT_HEADERS,
];

const spoofHeaders = (): Record<string, string> => Object.fromEntries(WELL_KNOWN.map((n) => [n, `${SPOOF}:${n}`]));

/** RFC 9440 §2.1: an RFC 8941 Byte Sequence of the DER. */
const sfBinary = (pem: string) => `:${new X509Certificate(pem).raw.toString("base64")}:`;

function expectedRfc9440(pki: TestPkiManifest, client: string) {
  const pems = readFileSync(pki.clients[client]!.chain, "utf8").match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!;
  return { clientCert: sfBinary(pems[0]!), clientCertChain: pems.slice(1).map(sfBinary).join(", ") };
}

function rawValues(rawHeaders: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === name) out.push(rawHeaders[i + 1]!);
  return out;
}

describe("anti-spoofing: client-certificate headers (RFC 9440 §2.4; the spoofing CVEs of other terminators)", () => {
  let pki: TestPkiManifest;
  let backend: Backend;
  let edge: Edge;

  beforeAll(async () => {
    pki = await testPki();
    backend = await startRecordingBackend((req, res) => {
      // A backend that (wrongly) reflects certificate fields in its response.
      res.writeHead(200, {
        "content-type": "application/json",
        "client-cert": ":AAAA:",
        "x-ssl-client-cert": "backend",
        "x-amzn-mtls-clientcert": "backend",
        "x-forwarded-client-cert": "Hash=00",
        "cf-client-cert-der-base64": "AAAA",
        "x-client-cert-dn": "CN=backend",
        "x-kept": "yes",
      });
      res.end(JSON.stringify({ cert: req.headers["client-cert"] ?? null }));
    });
    edge = await startTestEdge({ pki, upstream: backend.url });
  });

  afterAll(async () => {
    await edge?.close();
    await backend?.close();
  });

  function assertSanitized(rawHeaders: readonly string[]) {
    for (let i = 0; i < rawHeaders.length; i += 2) expect(rawHeaders[i + 1], rawHeaders[i]).not.toContain(SPOOF);
  }

  const cases = [
    { name: "mTLS route with a client certificate", path: "/open-banking/accounts/v2/accounts", cert: true },
    { name: "optional route with a client certificate", path: "/.well-known/openid-configuration", cert: true },
    { name: "optional route without a client certificate", path: "/.well-known/openid-configuration", cert: false },
  ];

  for (const c of cases) {
    it(`strips every spoofed client-cert header and forwards only the real certificate: ${c.name}`, async () => {
      const before = backend.received.length;
      const res = await httpsRequest({
        pki,
        port: edge.port,
        path: c.path,
        credentials: c.cert ? clientCredentials(pki, "participant-a") : undefined,
        headers: spoofHeaders(),
      });
      expect(res.status).toBe(200);
      expect(backend.received).toHaveLength(before + 1);
      const got = backend.received.at(-1)!;
      assertSanitized(got.rawHeaders);
      const expected = expectedRfc9440(pki, "participant-a");
      expect(rawValues(got.rawHeaders, "client-cert")).toEqual(c.cert ? [expected.clientCert] : []);
      expect(rawValues(got.rawHeaders, "client-cert-chain")).toEqual(c.cert ? [expected.clientCertChain] : []);
    });
  }

  it("rejects a spoofed certificate on an mTLS route without a client certificate, forwarding nothing", async () => {
    const before = backend.received.length;
    const res = await httpsRequest({ pki, port: edge.port, headers: spoofHeaders() });
    expect(res.status).toBe(401);
    expect(res.json<{ errors: { code: string }[] }>().errors[0]!.code).toBe("CERT_REQUIRED");
    expect(backend.received).toHaveLength(before);
  });

  it("never lets certificate headers set by the backend reach the client (RFC 9440 §2.2: requests only)", async () => {
    const res = await httpsRequest({ pki, port: edge.port, credentials: clientCredentials(pki, "participant-a") });
    expect(res.status).toBe(200);
    for (const name of ["client-cert", "x-ssl-client-cert", "x-amzn-mtls-clientcert", "x-forwarded-client-cert", "cf-client-cert-der-base64", "x-client-cert-dn"]) {
      expect(res.headers[name], name).toBeUndefined();
    }
    expect(res.headers["x-kept"]).toBe("yes");
  });

  it("keeps two interleaved keep-alive clients apart: each request carries its own connection's certificate, even when it sends the other's as Client-Cert", async () => {
    const clients = ["participant-a", "participant-b"] as const;
    const agents = Object.fromEntries(
      clients.map((name) => [name, new Agent({ keepAlive: true, maxSockets: 1, ...clientCredentials(pki, name), ca: readFileSync(pki.trustAnchors), servername: "localhost" })]),
    );
    const expected = Object.fromEntries(clients.map((name) => [name, expectedRfc9440(pki, name).clientCert]));
    expect(expected["participant-a"]).not.toBe(expected["participant-b"]);
    let connections = 0;
    const count = () => void connections++;
    const server = edge.edge.listeners[0]!.server;
    server.on("secureConnection", count);
    try {
      const before = backend.received.length;
      for (let round = 0; round < 4; round++) {
        // Both clients in flight at once, alternating which one starts.
        const order = round % 2 === 0 ? clients : ([...clients].reverse() as typeof clients[number][]);
        const results = await Promise.all(
          order.map((name) =>
            httpsRequest({
              pki,
              port: edge.port,
              headers: { "x-test-client": name, "client-cert": expected[name === "participant-a" ? "participant-b" : "participant-a"]! },
              tls: { agent: agents[name], ...clientCredentials(pki, name) },
            }),
          ),
        );
        for (const r of results) expect(r.status).toBe(200);
      }
      // One TLS connection per client carried all of its requests.
      expect(connections).toBe(2);
      const got = backend.received.slice(before);
      expect(got).toHaveLength(8);
      for (const r of got) {
        const who = r.headers["x-test-client"] as string;
        expect(rawValues(r.rawHeaders, "client-cert"), who).toEqual([expected[who]]);
      }
    } finally {
      server.off("secureConnection", count);
      for (const a of Object.values(agents)) a.destroy();
    }
  });
});
