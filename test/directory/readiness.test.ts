import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDirectoryService } from "../../src/directory/service.js";
import { openDirectoryStore } from "../../src/directory/open.js";
import { parseConfig } from "../../src/config/load.js";
import { createLogger } from "../../src/log/logger.js";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { freePort, startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest } from "../helpers/client.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";
import { redisUrl, uniquePrefix } from "../helpers/redis.js";
import { testDispatcher } from "../helpers/outbound.js";

const dispatcher = testDispatcher();

/**
 * docs/architecture.md, decision D5: the last good snapshot serves up to `maxStalenessMs`; beyond it, or before any snapshot, protected
 * routes answer 503 DIRECTORY_UNAVAILABLE and readiness is false — never fail open. Routes without the check
 * keep working.
 */

const HOUR = 3_600_000;

let pki: TestPkiManifest;
let document: string;
let directory: Server;
let directoryUp = true;
let participantsRequests = 0;
let participantsUrl: string;

beforeAll(async () => {
  pki = await testPki();
  document = readFileSync(pki.directory.participants, "utf8");
  directory = createServer((req, res) => {
    if (req.url === "/participants") participantsRequests++;
    if (!directoryUp) {
      res.writeHead(503, { "content-type": "text/plain" });
      res.end("maintenance");
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(document);
  });
  await new Promise<void>((r) => directory.listen(0, "127.0.0.1", r));
  participantsUrl = `http://127.0.0.1:${(directory.address() as AddressInfo).port}/participants`;
});

afterAll(async () => {
  directory.closeAllConnections();
  await new Promise<void>((r) => directory.close(() => r()));
});

async function readyz(port: number): Promise<{ status: number; body: { ready: boolean; directory?: { reason?: string } } }> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: res.status, body: (await res.json()) as { ready: boolean; directory?: { reason?: string } } };
}

describe("directory staleness and readiness", () => {
  let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
  let edge: Awaited<ReturnType<typeof startTestEdge>>;
  let now = Date.now();

  beforeAll(async () => {
    directoryUp = true;
    backend = await startRecordingBackend();
    edge = await startTestEdge({
      pki,
      upstream: backend.url,
      clock: () => new Date(now),
      directory: { participantsUrl, requireRegisteredCertificate: false, maxStalenessMs: 24 * HOUR },
      admin: { port: 0 },
    });
  });

  afterAll(async () => {
    await edge?.close();
    await backend?.close();
  });

  const call = (path = "/open-banking/accounts/v2/accounts") => httpsRequest({ pki, port: edge.port, credentials: clientCredentials(pki, "participant-a"), path });

  it("is ready once the first sync published a snapshot, and serves", async () => {
    expect((await readyz(edge.edge.adminPort!)).status).toBe(200);
    expect((await call()).status).toBe(200);
  });

  it("keeps serving the last good snapshot while the Directory is down, up to maxStalenessMs", async () => {
    directoryUp = false;
    now += 23 * HOUR;
    expect((await edge.edge.directory!.syncOnce()).status).toBe("failed");
    expect((await readyz(edge.edge.adminPort!)).status).toBe(200);
    expect((await call()).status).toBe(200);
  });

  it("beyond maxStalenessMs: 503 DIRECTORY_UNAVAILABLE with a Retry-After, not forwarded, readiness false with the reason", async () => {
    now += 2 * HOUR;
    const before = backend.received.length;
    const res = await call();
    expect(res.status).toBe(503);
    expect(res.headers["retry-after"]).toBe("30");
    expect(res.json<{ errors: { code: string; detail: string }[] }>().errors[0]).toMatchObject({ code: "DIRECTORY_UNAVAILABLE", detail: expect.stringContaining("min old") });
    expect(backend.received.length).toBe(before);
    const ready = await readyz(edge.edge.adminPort!);
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ ready: false, directory: { reason: expect.stringContaining("maxStalenessMs") } });
    // Routes that do not check the participant are not affected.
    expect((await call("/.well-known/openid-configuration")).status).toBe(200);
  });

  it("recovers as soon as a sync succeeds again", async () => {
    directoryUp = true;
    expect((await edge.edge.directory!.syncOnce()).status).toBe("published");
    expect((await readyz(edge.edge.adminPort!)).status).toBe(200);
    expect((await call()).status).toBe(200);
  });
});

describe("an edge whose Directory was never reachable", () => {
  it("starts, answers 503 on checked routes and is not ready; /healthz stays 200", async () => {
    directoryUp = false;
    const backend = await startRecordingBackend();
    const edge = await startTestEdge({ pki, upstream: backend.url, directory: { participantsUrl, requireRegisteredCertificate: false }, admin: { port: 0 } });
    try {
      const res = await httpsRequest({ pki, port: edge.port, credentials: clientCredentials(pki, "participant-a") });
      expect(res.status).toBe(503);
      expect(res.json<{ errors: { code: string }[] }>().errors[0]!.code).toBe("DIRECTORY_UNAVAILABLE");
      expect(backend.received).toHaveLength(0);
      expect(await readyz(edge.edge.adminPort!)).toMatchObject({ status: 503, body: { ready: false, directory: { reason: expect.stringContaining("no directory snapshot") } } });
      expect((await fetch(`http://127.0.0.1:${edge.edge.adminPort}/healthz`)).status).toBe(200);
    } finally {
      directoryUp = true;
      await edge.close();
      await backend.close();
    }
  });
});

describe("replicas sharing Redis", () => {
  it("two replicas refreshing at once: one fetches and publishes, the other skips (Redis lock), no double write", async () => {
    const keyPrefix = uniquePrefix();
    const config = parseConfig(
      {
        listeners: [{ name: "x", port: 0, mode: "strict", tls: { cert: pki.server.cert, key: pki.server.key, trustAnchors: [pki.trustAnchors] } }],
        routes: [{ name: "r", pathPrefix: "/", upstream: "http://127.0.0.1:1" }],
        directory: { participantsUrl, requireRegisteredCertificate: false, store: { type: "redis", url: redisUrl(), keyPrefix } },
      },
      { file: "test", baseDir: process.cwd() },
    ).directory!;
    const logger = createLogger({ level: "silent" });
    const now = () => Date.now();
    const replicas = await Promise.all([1, 2].map(async () => createDirectoryService({ config, store: await openDirectoryStore(config, { logger, now }), logger, now, dispatcher })));
    try {
      const published: string[] = [];
      replicas[1]!.store.onChange((meta) => published.push(meta.version));
      const before = participantsRequests;
      const results = await Promise.all(replicas.map((r) => r.syncOnce()));
      expect(results.map((r) => r.status).sort()).toEqual(["published", "skipped"]);
      expect(participantsRequests - before).toBe(1);
      await expect.poll(() => published.length).toBe(1);
      expect(replicas[0]!.store.current()?.version).toBe(replicas[1]!.store.current()?.version);
    } finally {
      await Promise.all(replicas.map((r) => r.close()));
    }
  });

  it("Redis down at start-up: the edge refuses to start with a clear error naming the (masked) address", async () => {
    const port = await freePort();
    const backend = await startRecordingBackend();
    try {
      await expect(
        startTestEdge({
          pki,
          upstream: backend.url,
          directory: { participantsUrl, requireRegisteredCertificate: false, store: { type: "redis", url: `redis://edge:s3cret@127.0.0.1:${port}`, keyPrefix: uniquePrefix(), connectTimeoutMs: 500 } },
        }),
      ).rejects.toThrow(new RegExp(`redis://edge:\\*\\*\\*@127\\.0\\.0\\.1:${port}.*ECONNREFUSED`));
    } finally {
      await backend.close();
    }
  });
});
