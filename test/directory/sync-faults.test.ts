import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMemoryStore } from "../../src/directory/memory-store.js";
import { createDirectorySync, type DirectorySyncOptions, type SyncResult } from "../../src/directory/sync.js";
import type { DirectoryStore } from "../../src/directory/types.js";
import { createLogger } from "../../src/log/logger.js";
import { testPki } from "../helpers/edge.js";
import { testDispatcher } from "../helpers/outbound.js";

const dispatcher = testDispatcher();

/**
 * The sync against a real HTTP server that misbehaves in every way the issue lists. After any failure the
 * previous snapshot stays in service unchanged (docs/architecture.md, decision D5); nothing half-parsed is ever published.
 */

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

let document: string;
let server: Server;
let url: string;
let handler: Handler;
let requests: IncomingMessage[];

beforeAll(async () => {
  document = readFileSync((await testPki()).directory.participants, "utf8");
  server = createServer((req, res) => {
    requests.push(req);
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/participants`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

function serveJson(body: string, headers: Record<string, string> = {}): Handler {
  return (_req, res) => {
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...headers });
    res.end(body);
  };
}

function setup(overrides: Partial<DirectorySyncOptions> = {}, store: DirectoryStore = createMemoryStore()) {
  requests = [];
  const sync = createDirectorySync({
    store,
    participantsUrl: url,
    fetchTimeoutMs: 2_000,
    maxDocumentBytes: 1024 * 1024,
    lockTtlMs: 10_000,
    refreshIntervalMs: 60_000,
    now: () => Date.now(),
    logger: createLogger({ level: "silent" }),
    dispatcher,
    ...overrides,
  });
  return { store, sync };
}

/**
 * A store holding a good snapshot, then a sync (with `overrides`) that meets `bad`: it fails, and the
 * snapshot is untouched.
 */
async function expectFailureKeepsSnapshot(bad: Handler, reason: RegExp, overrides: Partial<DirectorySyncOptions> = {}): Promise<void> {
  const { store, sync: good } = setup();
  handler = serveJson(document);
  expect((await good.syncOnce()).status).toBe("published");
  const before = store.current()!;
  const org = JSON.parse(document)[0].OrganisationId as string;
  const { sync } = setup(overrides, store);
  handler = bad;
  const result = await sync.syncOnce();
  expect(result.status).toBe("failed");
  expect(result.status === "failed" && result.reason).toMatch(reason);
  expect(store.current()).toEqual(before);
  expect(await store.organisation(org)).not.toBeNull();
}

describe("directory sync", () => {
  it("publishes a complete snapshot of /participants with its validators", async () => {
    const { store, sync } = setup();
    handler = serveJson(document, { etag: '"v1"', "last-modified": "Wed, 02 Dec 2026 10:00:00 GMT" });
    const result = await sync.syncOnce();
    expect(result.status).toBe("published");
    const meta = store.current()!;
    expect(meta).toMatchObject({ etag: '"v1"', lastModified: "Wed, 02 Dec 2026 10:00:00 GMT", organisations: JSON.parse(document).length, source: url });
  });

  it("asks conditionally (If-None-Match / If-Modified-Since); a 304 confirms the snapshot without replacing it (RFC 9110 §13.1)", async () => {
    let t = 1_000_000;
    const { store, sync } = setup({ now: () => t });
    handler = serveJson(document, { etag: '"v1"', "last-modified": "Wed, 02 Dec 2026 10:00:00 GMT" });
    await sync.syncOnce();
    const first = store.current()!;
    t += 300_000;
    handler = (req, res) => {
      expect(req.headers["if-none-match"]).toBe('"v1"');
      expect(req.headers["if-modified-since"]).toBe("Wed, 02 Dec 2026 10:00:00 GMT");
      res.writeHead(304, { etag: '"v1"' });
      res.end();
    };
    const result = await sync.syncOnce();
    expect(result.status).toBe("not-modified");
    expect(store.current()).toEqual({ ...first, fetchedAt: t });
  });

  it("concurrent callers share one attempt (single-flight)", async () => {
    const { sync } = setup();
    handler = serveJson(document);
    const results = await Promise.all([sync.syncOnce(), sync.syncOnce(), sync.syncOnce()]);
    expect(results[0]).toMatchObject({ status: "published" });
    expect(new Set(results).size).toBe(1);
    expect(requests).toHaveLength(1);
  });

  it("malformed JSON is rejected with its position; the previous snapshot stays", async () => {
    await expectFailureKeepsSnapshot(serveJson('[{"OrganisationId": "x",'), /JSON/);
  });

  it("a document that fails validation as a whole is rejected with the JSON path", async () => {
    const orgs = JSON.parse(document) as Record<string, unknown>[];
    const duplicated = JSON.stringify([...orgs, orgs[0]]);
    await expectFailureKeepsSnapshot(serveJson(duplicated), new RegExp(`\\[${orgs.length}\\]`));
    await expectFailureKeepsSnapshot(serveJson(JSON.stringify({ data: orgs })), /array/i);
  });

  it("a truncated body (connection closed before Content-Length) is rejected", async () => {
    await expectFailureKeepsSnapshot((_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(document) });
      res.write(document.slice(0, 100));
      setTimeout(() => res.socket?.destroy(), 20);
    }, /./);
  });

  it("a wrong content type is rejected without parsing", async () => {
    await expectFailureKeepsSnapshot((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<html>maintenance</html>");
    }, /content type 'text\/html'/);
  });

  it("an oversized document is rejected, declared or streamed", async () => {
    await expectFailureKeepsSnapshot(serveJson(document), /maxDocumentBytes/, { maxDocumentBytes: 1024 });
    await expectFailureKeepsSnapshot(
      (_req, res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(document);
      },
      /maxDocumentBytes/,
      { maxDocumentBytes: 1024 },
    );
  });

  it("HTTP 500 and 404 are failures, not empty directories", async () => {
    for (const status of [500, 404]) {
      await expectFailureKeepsSnapshot((_req, res) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end("[]");
      }, new RegExp(`HTTP ${status}`));
    }
  });

  it("a Directory that never answers fails within fetchTimeoutMs", async () => {
    const started = Date.now();
    await expectFailureKeepsSnapshot(() => undefined, /timed out/i, { fetchTimeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("never publishes from an error: a first sync that fails leaves no snapshot at all", async () => {
    const { store, sync } = setup();
    handler = serveJson("[]");
    const result: SyncResult = await sync.syncOnce();
    expect(result.status).toBe("failed");
    expect(store.current()).toBeNull();
  });
});
