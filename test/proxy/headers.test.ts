import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest } from "../helpers/client.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";

type Backend = Awaited<ReturnType<typeof startRecordingBackend>>;
type Edge = Awaited<ReturnType<typeof startTestEdge>>;

/** Every header line the backend received under `name` (case-insensitive), in order. */
function rawValues(rawHeaders: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === name) out.push(rawHeaders[i + 1]!);
  return out;
}

describe("proxy header hygiene", () => {
  let pki: TestPkiManifest;
  let backend: Backend;
  let edge: Edge;
  let appendEdge: Edge;
  let credentials: { cert: Buffer; key: Buffer };

  beforeAll(async () => {
    pki = await testPki();
    credentials = clientCredentials(pki, "participant-a");
    backend = await startRecordingBackend((req, res) => {
      if (req.url.endsWith("/hop-response")) {
        // The backend names its own hop-by-hop field in Connection and sends the standard ones.
        res.writeHead(200, {
          "content-type": "text/plain",
          connection: "keep-alive, X-Backend-Hop",
          "x-backend-hop": "must not leave the hop",
          "keep-alive": "timeout=999, max=7",
          "proxy-authenticate": 'Basic realm="backend"',
          "x-end-to-end": "kept",
          "cache-control": "private",
        });
        res.end("ok");
        return;
      }
      if (req.url.endsWith("/vary")) {
        res.writeHead(200, { "content-type": "application/json", vary: req.headers["x-vary"] as string });
        res.end("{}");
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
    edge = await startTestEdge({ pki, upstream: backend.url });
    appendEdge = await startTestEdge({ pki, upstream: backend.url, proxy: { xForwardedFor: "append" } });
  });

  afterAll(async () => {
    await Promise.all([edge?.close(), appendEdge?.close()]);
    await backend?.close();
  });

  it("removes hop-by-hop request fields and the fields named in Connection, keeps end-to-end fields (RFC 9110 §7.6.1)", async () => {
    const before = backend.received.length;
    const res = await httpsRequest({
      pki,
      port: edge.port,
      credentials,
      method: "POST",
      body: '{"data":{}}',
      headers: {
        connection: "close, X-Custom-Hop",
        "x-custom-hop": "listed in Connection",
        "keep-alive": "timeout=30",
        te: "trailers",
        upgrade: "websocket",
        "proxy-authorization": "Basic c2VjcmV0OnNlY3JldA==",
        "proxy-connection": "keep-alive",
        trailer: "X-Checksum",
        accept: "application/json",
        authorization: "Bearer end-to-end-token",
        "content-type": "application/json",
        "x-end-to-end": "kept",
        "x-repeated": ["first", "second"],
      },
    });
    expect(res.status).toBe(200);
    expect(backend.received).toHaveLength(before + 1);
    const got = backend.received.at(-1)!;
    for (const name of ["x-custom-hop", "keep-alive", "te", "upgrade", "proxy-authorization", "proxy-connection", "trailer"]) {
      expect(got.headers[name], name).toBeUndefined();
    }
    // Connection, if present at all, is the edge's own to its upstream, never the client's list.
    expect(got.headers.connection ?? "").not.toMatch(/x-custom-hop|close/i);
    expect(got.headers.accept).toBe("application/json");
    expect(got.headers.authorization).toBe("Bearer end-to-end-token");
    expect(got.headers["content-type"]).toBe("application/json");
    expect(got.headers["x-end-to-end"]).toBe("kept");
    expect(rawValues(got.rawHeaders, "x-repeated")).toEqual(["first", "second"]);
    expect(got.body.toString()).toBe('{"data":{}}');
  });

  it("removes hop-by-hop response fields and the fields the backend named in Connection (RFC 9110 §7.6.1)", async () => {
    const res = await httpsRequest({ pki, port: edge.port, credentials, path: "/open-banking/hop-response" });
    expect(res.status).toBe(200);
    expect(res.headers["x-backend-hop"]).toBeUndefined();
    expect(res.headers["proxy-authenticate"]).toBeUndefined();
    expect(res.headers["keep-alive"] ?? "").not.toContain("999");
    expect(res.headers.connection ?? "").not.toMatch(/x-backend-hop/i);
    expect(res.headers["x-end-to-end"]).toBe("kept");
    expect(res.headers["cache-control"]).toBe("private");
    expect(res.body.toString()).toBe("ok");
  });

  it("replaces a spoofed X-Forwarded-For with the peer address by default (the edge is the trust boundary)", async () => {
    const res = await httpsRequest({
      pki,
      port: edge.port,
      credentials,
      headers: { "x-forwarded-for": "203.0.113.7", forwarded: "for=203.0.113.7;proto=http", "x-forwarded-proto": "http" },
    });
    expect(res.status).toBe(200);
    const got = backend.received.at(-1)!;
    expect(rawValues(got.rawHeaders, "x-forwarded-for")).toEqual(["127.0.0.1"]);
    expect(rawValues(got.rawHeaders, "x-forwarded-proto")).toEqual(["https"]);
    expect(got.headers.forwarded).toBeUndefined();
  });

  it("discards other proxies' client-address claims (X-Real-IP, True-Client-IP, …) in replace mode, keeps them in append mode", async () => {
    const claims = { "x-real-ip": "203.0.113.7", "true-client-ip": "203.0.113.8", "cf-connecting-ip": "203.0.113.9", "x-fapi-customer-ip-address": "198.51.100.20" };
    expect((await httpsRequest({ pki, port: edge.port, credentials, headers: claims })).status).toBe(200);
    const replaced = backend.received.at(-1)!.headers;
    expect([replaced["x-real-ip"], replaced["true-client-ip"], replaced["cf-connecting-ip"]]).toEqual([undefined, undefined, undefined]);
    // The FAPI customer address is the client's statement about its user, not a proxy hop: always passed on.
    expect(replaced["x-fapi-customer-ip-address"]).toBe("198.51.100.20");
    expect((await httpsRequest({ pki, port: appendEdge.port, credentials, headers: claims })).status).toBe(200);
    expect(backend.received.at(-1)!.headers["x-real-ip"]).toBe("203.0.113.7");
  });

  it("rewrites a response's Vary naming Client-Cert to Vary: * and leaves other Vary values alone (RFC 9440 §2.4)", async () => {
    const vary = async (value: string) =>
      (await httpsRequest({ pki, port: edge.port, credentials, path: "/open-banking/vary", headers: { "x-vary": value } })).headers.vary;
    expect(await vary("Accept, Client-Cert")).toBe("*");
    expect(await vary("client-cert-chain")).toBe("*");
    expect(await vary("Accept-Encoding")).toBe("Accept-Encoding");
    expect(await vary("X-Client-Certainty")).toBe("X-Client-Certainty");
  });

  it("appends the peer address to an incoming X-Forwarded-For in append mode", async () => {
    const res = await httpsRequest({ pki, port: appendEdge.port, credentials, headers: { "x-forwarded-for": "203.0.113.7, 198.51.100.2" } });
    expect(res.status).toBe(200);
    expect(rawValues(backend.received.at(-1)!.rawHeaders, "x-forwarded-for")).toEqual(["203.0.113.7, 198.51.100.2, 127.0.0.1"]);
  });

  it("append mode without an incoming X-Forwarded-For sends the peer address alone", async () => {
    const res = await httpsRequest({ pki, port: appendEdge.port, credentials });
    expect(res.status).toBe(200);
    expect(rawValues(backend.received.at(-1)!.rawHeaders, "x-forwarded-for")).toEqual(["127.0.0.1"]);
  });

  it("sends the client's Host as X-Forwarded-Host (a spoofed one is discarded) and its own Host upstream", async () => {
    const res = await httpsRequest({
      pki,
      port: edge.port,
      credentials,
      headers: { host: "api.bank.example", "x-forwarded-host": "evil.example" },
    });
    expect(res.status).toBe(200);
    const got = backend.received.at(-1)!;
    expect(rawValues(got.rawHeaders, "x-forwarded-host")).toEqual(["api.bank.example"]);
    expect(got.headers.host).toBe(`127.0.0.1:${backend.port}`);
  });
});
