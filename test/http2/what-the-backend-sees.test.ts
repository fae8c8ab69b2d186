import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import type { TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend, type RecordedRequest } from "../helpers/backend.js";
import { httpsRequest } from "../helpers/client.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";
import { h2Close, h2Connect, h2Request } from "../helpers/h2-client.js";

// HTTP/2 from clients, HTTP/1.1 to the backend (RFC 9113 §8.3: pseudo-header fields become the request line and
// the client's host, §8.2.3: split Cookie fields are joined), with every pipeline stage and the per-connection
// identity cache exactly as over HTTP/1.1.

const API = "/open-banking/accounts/v2/accounts";
/** Fields that differ between any two requests, or name the connection's address. */
const PER_REQUEST = new Set(["x-fapi-interaction-id", "x-forwarded-host"]);

let pki: TestPkiManifest;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
let edge: Awaited<ReturnType<typeof startTestEdge>>;
/** Reads of the peer certificate off each TLS connection's real socket (tls/peer.ts is the only reader). */
let leafReads: number[] = [];
let chainReads: number[] = [];

beforeAll(async () => {
  pki = await testPki();
  backend = await startRecordingBackend();
  edge = await startTestEdge({ pki, upstream: backend.url, mode: "permissive" });
  edge.edge.listeners[0]!.server.prependListener("secureConnection", (socket: TLSSocket) => {
    const index = leafReads.push(0) - 1;
    chainReads.push(0);
    const readLeaf = socket.getPeerCertificate.bind(socket);
    const readChain = socket.getPeerX509Certificate.bind(socket);
    socket.getPeerCertificate = ((detailed?: boolean) => {
      leafReads[index]! += 1;
      return readLeaf(detailed as false);
    }) as TLSSocket["getPeerCertificate"];
    socket.getPeerX509Certificate = () => {
      chainReads[index]! += 1;
      return readChain();
    };
  });
});

afterAll(async () => {
  await edge?.close();
  await backend?.close();
});

const stable = (r: RecordedRequest) => Object.fromEntries(Object.entries(r.headers).filter(([k]) => !PER_REQUEST.has(k)));

async function counter(metric: "connections" | "requests"): Promise<number> {
  return (await edge.metrics[metric].get()).values.reduce((sum, v) => sum + v.value, 0);
}

describe("an HTTP/2 request reaches the backend as the same HTTP/1.1 request", () => {
  it("200 with the identity fields an HTTP/1.1 request gets, X-Forwarded-Host from :authority, no pseudo-header field, protocol in the access line", async () => {
    const before = backend.received.length;
    const credentials = clientCredentials(pki, "participant-a");
    const h1 = await httpsRequest({ pki, port: edge.port, credentials, headers: { "user-agent": "probe" } });
    const session = await h2Connect(pki, edge.port, credentials);
    const authority = `localhost:${edge.port}`;
    const h2 = await h2Request(session, { headers: { "user-agent": "probe" } });
    await h2Close(session);
    expect([h1.status, h2.status]).toEqual([200, 200]);
    expect(backend.received.length).toBe(before + 2);
    const [viaH1, viaH2] = backend.received.slice(-2) as [RecordedRequest, RecordedRequest];
    expect(viaH2.headers["client-cert"]).toMatch(/^:[A-Za-z0-9+/=]+:$/);
    expect(viaH2.headers["x-ofb-organisation-id"]).toBe(pki.clients["participant-a"]!.organisationId);
    expect(stable(viaH2)).toEqual(stable(viaH1));
    expect(viaH2.headers["x-forwarded-host"]).toBe(authority);
    expect(viaH2.rawHeaders.filter((_, i) => i % 2 === 0).some((name) => name.startsWith(":"))).toBe(false);
    expect([viaH1.method, viaH1.url, viaH2.method, viaH2.url]).toEqual(["GET", API, "GET", API]);
    const lines = edge.logs.filter((l) => l.kind === "access").slice(-2);
    expect(lines.map((l) => [l.protocol, l.status, l.decision])).toEqual([
      ["http1.1", 200, "forwarded"],
      ["http2", 200, "forwarded"],
    ]);
  });

  it("bodies with and without Content-Length arrive whole; Cookie fields are joined with '; ' (RFC 9113 §8.2.3)", async () => {
    const session = await h2Connect(pki, edge.port, clientCredentials(pki, "participant-a"));
    try {
      const before = backend.received.length;
      const json = JSON.stringify({ data: { amount: "10.00", note: "x".repeat(70_000) } });
      const sized = await h2Request(session, { method: "POST", body: json, headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(json)) } });
      const unsized = await h2Request(session, { method: "POST", body: json, headers: { "content-type": "application/json" } });
      const cookies = await h2Request(session, { headers: { cookie: ["a=1", "b=2"] } });
      expect([sized.status, unsized.status, cookies.status]).toEqual([200, 200, 200]);
      const [a, b, c] = backend.received.slice(before) as [RecordedRequest, RecordedRequest, RecordedRequest];
      expect([a.body.toString(), a.headers["content-length"]]).toEqual([json, String(Buffer.byteLength(json))]);
      expect([b.body.toString(), b.headers["transfer-encoding"]]).toEqual([json, "chunked"]);
      expect(c.rawHeaders.filter((_, i) => i % 2 === 0 && c.rawHeaders[i]!.toLowerCase() === "cookie").length).toBe(1);
      expect(c.headers.cookie).toBe("a=1; b=2");
    } finally {
      await h2Close(session);
    }
  });
});

describe("one verdict per HTTP/2 connection, whatever its number of streams", () => {
  it("20 concurrent streams: the certificate is read off the connection once, one connection counted, 20 requests served", async () => {
    leafReads = [];
    chainReads = [];
    const [connections, requests, received] = [await counter("connections"), await counter("requests"), backend.received.length];
    const session = await h2Connect(pki, edge.port, clientCredentials(pki, "participant-b"));
    try {
      const responses = await Promise.all(Array.from({ length: 20 }, () => h2Request(session)));
      expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
      const again = await h2Request(session);
      expect(again.status).toBe(200);
    } finally {
      await h2Close(session);
    }
    expect(leafReads).toEqual([1]);
    expect(chainReads[0]).toBeLessThanOrEqual(1);
    expect(await counter("connections")).toBe(connections + 1);
    expect(await counter("requests")).toBe(requests + 21);
    const forwarded = backend.received.slice(received);
    expect(forwarded.length).toBe(21);
    expect(new Set(forwarded.map((r) => r.headers["x-ofb-x5t-s256"]))).toEqual(new Set([pki.clients["participant-b"]!.thumbprint]));
  });
});

describe("a trusted-proxy listener over HTTP/2", () => {
  it("a terminator multiplexing two clients on one HTTP/2 connection: each stream's forwarded certificate is its own; from an untrusted source the fields are stripped", async () => {
    const tls = { cert: pki.server.cert, key: pki.server.key, trustAnchors: [pki.trustAnchors] };
    const cdn = await startTestEdge({ pki, upstream: backend.url, listeners: [{ name: "behind-cdn", host: "127.0.0.1", port: 0, mode: "trusted-proxy", tls, trustedProxy: { profile: "rfc9440", sources: ["127.0.0.0/8"] } }] });
    const elsewhere = await startTestEdge({ pki, upstream: backend.url, listeners: [{ name: "behind-cdn", host: "127.0.0.1", port: 0, mode: "trusted-proxy", tls, trustedProxy: { profile: "rfc9440", sources: ["192.0.2.0/24"] } }] });
    /** RFC 9440 fields as the terminator in front forwards them for `client`. */
    const field = (client: string) => {
      const [leaf, ac] = readFileSync(pki.clients[client]!.chain, "utf8").match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!;
      const b64 = (pem: string) => `:${new X509Certificate(pem).raw.toString("base64")}:`;
      return { "client-cert": b64(leaf!), "client-cert-chain": b64(ac!) };
    };
    try {
      const session = await h2Connect(pki, cdn.port);
      const before = backend.received.length;
      const [a, b] = await Promise.all([h2Request(session, { headers: field("participant-a") }), h2Request(session, { headers: field("participant-b") })]);
      await h2Close(session);
      expect([a.status, b.status]).toEqual([200, 200]);
      const orgs = backend.received.slice(before).map((r) => r.headers["x-ofb-organisation-id"]);
      expect(new Set(orgs)).toEqual(new Set([pki.clients["participant-a"]!.organisationId, pki.clients["participant-b"]!.organisationId]));
      const untrusted = await h2Connect(pki, elsewhere.port);
      const refused = await h2Request(untrusted, { headers: field("participant-a") });
      await h2Close(untrusted);
      expect([refused.status, refused.json<{ errors: { code: string }[] }>().errors[0]!.code]).toEqual([401, "CERT_REQUIRED"]);
      expect(backend.received.length).toBe(before + 2);
    } finally {
      await cdn.close();
      await elsewhere.close();
    }
  });
});
