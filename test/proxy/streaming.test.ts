import { createHash, randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";
import { openHttpsRequest, writeChunk } from "../helpers/open-request.js";

const MiB = 1024 * 1024;
const CHUNKS = 50;
const TOTAL = CHUNKS * MiB;
/** How long a first chunk may take to cross the edge; a buffering edge never delivers it before the end. */
const FIRST_CHUNK_DEADLINE_MS = 5_000;

/** 50 distinct 1 MiB chunks of random data (chunk i starts with its index). */
const block = randomBytes(MiB);
const chunk = (i: number) => {
  const c = Buffer.from(block);
  c.writeUInt32BE(i, 0);
  return c;
};
const expectedSha256 = (() => {
  const h = createHash("sha256");
  for (let i = 0; i < CHUNKS; i++) h.update(chunk(i));
  return h.digest("hex");
})();

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

function within(promise: Promise<void>, what: string): Promise<void> {
  let timer: NodeJS.Timeout;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${FIRST_CHUNK_DEADLINE_MS} ms: the body is not streamed`)), FIRST_CHUNK_DEADLINE_MS);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/**
 * A real backend that hashes uploads as they arrive (signalling the first chunk) and streams downloads,
 * pausing after the first chunk until the test says the client has seen it.
 */
async function startStreamingBackend() {
  const state = { firstUploadChunk: deferred(), clientSawFirstDownloadChunk: deferred() };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url?.endsWith("/upload")) {
      const hash = createHash("sha256");
      let bytes = 0;
      req.on("data", (c: Buffer) => {
        if (bytes === 0) state.firstUploadChunk.resolve();
        bytes += c.length;
        hash.update(c);
      });
      req.on("end", () => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ bytes, sha256: hash.digest("hex"), framing: req.headers["transfer-encoding"] ?? "content-length" }));
      });
      return;
    }
    void (async () => {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      res.write(chunk(0));
      await state.clientSawFirstDownloadChunk.promise;
      for (let i = 1; i < CHUNKS; i++) {
        if (!res.write(chunk(i))) await new Promise((r) => res.once("drain", r));
      }
      res.end();
    })();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    state,
    reset: () => Object.assign(state, { firstUploadChunk: deferred(), clientSawFirstDownloadChunk: deferred() }),
    close: () => new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    }),
  };
}

describe("streamed bodies through the proxy (docs/architecture.md §Proxy)", () => {
  let pki: TestPkiManifest;
  let backend: Awaited<ReturnType<typeof startStreamingBackend>>;
  let edge: Awaited<ReturnType<typeof startTestEdge>>;

  beforeAll(async () => {
    pki = await testPki();
    backend = await startStreamingBackend();
    edge = await startTestEdge({ pki, upstream: backend.url, proxy: { maxRequestBodyBytes: 64 * MiB } });
  });

  afterAll(async () => {
    await edge?.close();
    await backend?.close();
  });

  /** A streamed exchange still ends in exactly one access line and no error (the client may already be gone). */
  async function expectOneAccessLine(interactionId: string) {
    await vi.waitFor(() => expect(edge.logs.filter((l) => l.kind === "access" && l.interactionId === interactionId)).toHaveLength(1));
    expect(edge.logs.filter((l) => l.level === "error")).toEqual([]);
  }

  for (const framing of ["chunked", "content-length"] as const) {
    it(`streams a 50 MiB ${framing} request body: the backend gets the first chunk while the client is still sending, and the whole body intact`, async () => {
      backend.reset();
      const id = randomUUID();
      const { req, outcome } = openHttpsRequest({
        pki,
        port: edge.port,
        credentials: clientCredentials(pki, "participant-a"),
        path: "/open-banking/payments/v4/upload",
        headers: { "x-fapi-interaction-id": id, ...(framing === "content-length" ? { "content-length": String(TOTAL) } : {}) },
      });
      await writeChunk(req, chunk(0));
      // The client holds back the other 49 MiB until the backend has the first one.
      await within(backend.state.firstUploadChunk.promise, "the backend receiving the first chunk");
      for (let i = 1; i < CHUNKS; i++) await writeChunk(req, chunk(i));
      req.end();
      const res = await outcome;
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body.toString())).toEqual({ bytes: TOTAL, sha256: expectedSha256, framing: framing === "chunked" ? "chunked" : "content-length" });
      await expectOneAccessLine(id);
    });
  }

  it("streams a 50 MiB response: the client gets the first chunk before the backend has produced the rest, and the whole body intact", async () => {
    backend.reset();
    let received = 0;
    const id = randomUUID();
    const { req, outcome } = openHttpsRequest({
      pki,
      port: edge.port,
      method: "GET",
      headers: { "x-fapi-interaction-id": id },
      credentials: clientCredentials(pki, "participant-a"),
      path: "/open-banking/payments/v4/download",
      onResponseData: (c) => {
        received += c.length;
        if (received >= MiB) backend.state.clientSawFirstDownloadChunk.resolve();
      },
    });
    req.end();
    // The backend writes the remaining 49 MiB only after this client has seen the first one.
    await within(backend.state.clientSawFirstDownloadChunk.promise, "the client receiving the first chunk");
    const res = await outcome;
    expect(res.status).toBe(200);
    expect(res.aborted).toBe(false);
    expect(res.body.length).toBe(TOTAL);
    expect(createHash("sha256").update(res.body).digest("hex")).toBe(expectedSha256);
    await expectOneAccessLine(id);
  });
});
