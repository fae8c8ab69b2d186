import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMockDirectory, type MockDirectory } from "../../src/directory/mock.js";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest } from "../helpers/client.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";
import { redisUrl, uniquePrefix } from "../helpers/redis.js";
import { keepAliveClient } from "../helpers/tls-probe.js";

/**
 * docs/architecture.md §Directory against the generated PKI and its Directory fixture, served by the mock directory, with both
 * stores: the organisation must be Active, hold the API family's role Active, and (D6) present a certificate
 * that is an active key of its software statement. Every rejection is a 403 that never reaches the backend.
 */

const ACCOUNTS = "/open-banking/accounts/v2/accounts";
const PAYMENTS = "/open-banking/payments/v4/pix/payments";

interface ErrorBody {
  errors: { code: string; detail: string }[];
}

let pki: TestPkiManifest;
let mock: MockDirectory;
let keystoreFront: Server;
let keystoreRequests = 0;

beforeAll(async () => {
  pki = await testPki();
  mock = await startMockDirectory({ fixtureDir: pki.directory.participants.replace(/participants\.json$/, "") });
  // Counts keystore fetches on their way to the mock: the per-connection reuse test reads it.
  keystoreFront = createServer((req, res) => {
    keystoreRequests++;
    const upstream = request(`${mock.url}${req.url}`, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    upstream.end();
  });
  await new Promise<void>((r) => keystoreFront.listen(0, "127.0.0.1", r));
});

afterAll(async () => {
  keystoreFront.closeAllConnections();
  await new Promise<void>((r) => keystoreFront.close(() => r()));
  await mock.close();
});

describe.each(["memory", "redis"] as const)("participant checks with the %s store", (storeType) => {
  let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
  let edge: Awaited<ReturnType<typeof startTestEdge>>;

  beforeAll(async () => {
    backend = await startRecordingBackend();
    edge = await startTestEdge({
      pki,
      upstream: backend.url,
      routes: [
        { name: "open-banking", pathPrefix: "/open-banking/", upstream: backend.url },
        { name: "token", pathPrefix: "/token", upstream: backend.url, interactionId: "generate" },
      ],
      directory: {
        participantsUrl: mock.participantsUrl,
        keystoreUrl: `http://127.0.0.1:${(keystoreFront.address() as AddressInfo).port}/keystore/`,
        store: storeType === "memory" ? { type: "memory" } : { type: "redis", url: redisUrl(), keyPrefix: uniquePrefix() },
        keystore: { ttlMs: 1, negativeTtlMs: 1 },
        connectionRecheckMs: 1_500,
      },
    });
  });

  afterAll(async () => {
    await edge?.close();
    await backend?.close();
  });

  async function call(client: string, path = ACCOUNTS, headers: Record<string, string> = {}) {
    return httpsRequest({ pki, port: edge.port, credentials: clientCredentials(pki, client), path, headers });
  }

  it("an Active participant with the role is forwarded with its identity and Active roles", async () => {
    const res = await call("participant-a");
    expect(res.status).toBe(200);
    const got = backend.received.at(-1)!.headers;
    const a = pki.clients["participant-a"]!;
    expect(got["x-ofb-organisation-id"]).toBe(a.organisationId);
    expect(got["x-ofb-software-statement-id"]).toBe(a.softwareStatementId);
    expect(got["x-ofb-cnpj"]).toBe(a.cnpj);
    expect(got["x-ofb-roles"]).toBe("DADOS,PAGTO");
  });

  it("spoofed x-ofb-* identity headers never reach the backend", async () => {
    await call("participant-a", ACCOUNTS, { "x-ofb-organisation-id": "spoofed", "X-OFB-Roles": "CONTA", "x-ofb-anything": "x" });
    const got = backend.received.at(-1)!;
    expect(got.headers["x-ofb-organisation-id"]).toBe(pki.clients["participant-a"]!.organisationId);
    expect(got.headers["x-ofb-roles"]).toBe("DADOS,PAGTO");
    expect(got.headers["x-ofb-anything"]).toBeUndefined();
  });

  it.each([
    ["participant-pending", ACCOUNTS, "DIRECTORY_ORG_PENDING"],
    ["participant-withdrawn", ACCOUNTS, "DIRECTORY_ORG_WITHDRAWN"],
    ["participant-unknown-org", ACCOUNTS, "DIRECTORY_ORG_UNKNOWN"],
    ["participant-no-roles", ACCOUNTS, "DIRECTORY_ROLE_MISSING"],
    ["participant-b", PAYMENTS, "DIRECTORY_ROLE_INACTIVE"],
    ["participant-c", ACCOUNTS, "DIRECTORY_ROLE_MISSING"],
    ["participant-inactive-key", ACCOUNTS, "DIRECTORY_KEY_INACTIVE"],
    ["participant-unregistered-key", ACCOUNTS, "DIRECTORY_KEY_UNREGISTERED"],
  ])("%s on %s → 403 %s, not forwarded", async (client, path, code) => {
    const before = backend.received.length;
    const res = await call(client, path);
    expect(res.status).toBe(403);
    expect(res.json<ErrorBody>().errors[0]!.code).toBe(code);
    expect(backend.received.length).toBe(before);
    const line = edge.logs.filter((l) => l.kind === "access").at(-1)!;
    expect(line).toMatchObject({ decision: "rejected", code, stage: "directory" });
  });

  it("roles follow the API family: participant-b (DADOS only Active) reads accounts, participant-c (PAGTO) pays", async () => {
    expect((await call("participant-b", ACCOUNTS)).status).toBe(200);
    expect((await call("participant-c", PAYMENTS)).status).toBe(200);
    expect(backend.received.at(-1)!.headers["x-ofb-roles"]).toBe("PAGTO");
  });

  it("paths outside /open-banking/ (token, PAR) need an Active organisation but no role", async () => {
    expect((await call("participant-no-roles", "/token")).status).toBe(200);
    const res = await call("participant-withdrawn", "/token");
    expect(res.json<ErrorBody>().errors[0]!.code).toBe("DIRECTORY_ORG_WITHDRAWN");
  });

  it("one certificate's requests ask the directory once, on a kept-alive connection and on new ones, until connectionRecheckMs", async () => {
    // Let any verdict remembered by earlier tests run out (connectionRecheckMs is 1.5 s here).
    await new Promise((r) => setTimeout(r, 1_600));
    const client = keepAliveClient(pki, edge.port, clientCredentials(pki, "participant-a"));
    try {
      const before = keystoreRequests;
      for (let i = 0; i < 5; i++) expect((await client.get(ACCOUNTS)).status).toBe(200);
      // One check: the active and the inactive transport.jwks (the keystore cache TTL is 1 ms here).
      expect(keystoreRequests - before).toBe(2);
    } finally {
      client.close();
    }
    const before = keystoreRequests;
    expect((await call("participant-a")).status).toBe(200);
    expect(keystoreRequests - before).toBe(0);
    await new Promise((r) => setTimeout(r, 1_600));
    expect((await call("participant-a")).status).toBe(200);
    expect(keystoreRequests - before).toBe(2);
  });
});
