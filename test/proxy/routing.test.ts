import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest } from "../helpers/client.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";

type Backend = Awaited<ReturnType<typeof startRecordingBackend>>;

describe("routes: longest prefix at a segment boundary, upstream base paths, keep-alive pools", () => {
  let pki: TestPkiManifest;
  let accounts: Backend;
  let payments: Backend;
  let edge: Awaited<ReturnType<typeof startTestEdge>>;
  let credentials: { cert: Buffer; key: Buffer };
  let paymentConnections = 0;

  beforeAll(async () => {
    pki = await testPki();
    credentials = clientCredentials(pki, "participant-a");
    accounts = await startRecordingBackend();
    payments = await startRecordingBackend();
    payments.server.on("connection", () => void paymentConnections++);
    edge = await startTestEdge({
      pki,
      upstream: accounts.url,
      routes: [
        { name: "open-banking", pathPrefix: "/open-banking/", upstream: accounts.url },
        { name: "payments", pathPrefix: "/open-banking/payments", upstream: `${payments.url}/bank/api/` },
      ],
    });
  });

  afterAll(async () => {
    await edge?.close();
    await Promise.all([accounts?.close(), payments?.close()]);
  });

  const get = (path: string) => httpsRequest({ pki, port: edge.port, credentials, path });

  it("sends a path to the route with the longest matching prefix", async () => {
    const before = { a: accounts.received.length, p: payments.received.length };
    expect((await get("/open-banking/payments/v4/pix/payments")).status).toBe(200);
    expect(payments.received).toHaveLength(before.p + 1);
    expect(accounts.received).toHaveLength(before.a);
  });

  it("matches a prefix only at a segment boundary: /open-banking/payments-v9 is not /open-banking/payments", async () => {
    const before = { a: accounts.received.length, p: payments.received.length };
    expect((await get("/open-banking/payments-v9/x")).status).toBe(200);
    expect(accounts.received).toHaveLength(before.a + 1);
    expect(payments.received).toHaveLength(before.p);
  });

  it("matches the prefix itself exactly", async () => {
    const before = payments.received.length;
    expect((await get("/open-banking/payments")).status).toBe(200);
    expect(payments.received).toHaveLength(before + 1);
  });

  it("forwards under the upstream's base path, keeping the path and query as sent", async () => {
    expect((await get("/open-banking/payments/v4/consents?status=AUTHORISED&page=2")).status).toBe(200);
    expect(payments.received.at(-1)!.url).toBe("/bank/api/open-banking/payments/v4/consents?status=AUTHORISED&page=2");
  });

  it("answers 404 for a path outside every prefix, forwarding nothing", async () => {
    const before = { a: accounts.received.length, p: payments.received.length };
    const res = await get("/open-bankingX/accounts");
    expect(res.status).toBe(404);
    expect(res.json<{ errors: { code: string }[] }>().errors[0]!.code).toBe("ROUTE_NOT_FOUND");
    expect(accounts.received).toHaveLength(before.a);
    expect(payments.received).toHaveLength(before.p);
  });

  it("reuses upstream connections across client connections (undici keep-alive pool)", async () => {
    const before = paymentConnections;
    for (let i = 0; i < 5; i++) expect((await get("/open-banking/payments/v4/pix/payments")).status).toBe(200);
    // Five client TLS connections, sequential requests: at most one new upstream connection.
    expect(paymentConnections - before).toBeLessThanOrEqual(1);
  });
});

describe("a listener serves only the routes it names", () => {
  it("answers 404 on a listener for a route configured for another listener", async () => {
    const pki = await testPki();
    const backend = await startRecordingBackend();
    const tls = { cert: pki.server.cert, key: pki.server.key, trustAnchors: [pki.trustAnchors] };
    const edge = await startTestEdge({
      pki,
      upstream: backend.url,
      listeners: [{ name: "public", host: "127.0.0.1", port: 0, mode: "permissive", tls, routes: ["well-known"] }],
      routes: [
        { name: "open-banking", pathPrefix: "/open-banking/", upstream: backend.url },
        { name: "well-known", pathPrefix: "/.well-known/", upstream: backend.url, mtls: "optional", interactionId: "generate" },
      ],
    });
    try {
      const credentials = clientCredentials(pki, "participant-a");
      expect((await httpsRequest({ pki, port: edge.port, credentials, path: "/.well-known/openid-configuration" })).status).toBe(200);
      const res = await httpsRequest({ pki, port: edge.port, credentials, path: "/open-banking/accounts" });
      expect(res.status).toBe(404);
      expect(backend.received).toHaveLength(1);
    } finally {
      await edge.close();
      await backend.close();
    }
  });
});
