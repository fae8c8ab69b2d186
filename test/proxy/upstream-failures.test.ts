import { randomUUID } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { httpsRequest } from "../helpers/client.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";
import { openHttpsRequest } from "../helpers/open-request.js";

/**
 * A raw TCP backend that misbehaves in one chosen way once it has read a request head. Counting the heads
 * it read proves which requests reached it.
 */
async function startMisbehavingBackend(onRequest: (socket: Socket) => void) {
  const sockets = new Set<Socket>();
  let heads = 0;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    let buffered = "";
    socket.on("data", (d: Buffer) => {
      buffered += d.toString("latin1");
      if (!buffered.includes("\r\n\r\n")) return;
      buffered = "";
      heads++;
      onRequest(socket);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    heads: () => heads,
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
}

/** A port nothing listens on: bound once, then released. */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

type ErrorBody = { errors: { code: string; title: string; detail: string }[] };

describe("upstream failures (docs/architecture.md §Proxy: 502/504 in the OFB error format)", () => {
  let pki: TestPkiManifest;
  let edge: Awaited<ReturnType<typeof startTestEdge>>;
  const backends: Awaited<ReturnType<typeof startMisbehavingBackend>>[] = [];
  let silent: (typeof backends)[number];
  let resetBeforeAnswer: (typeof backends)[number];
  let downUrl: string;

  beforeAll(async () => {
    pki = await testPki();
    downUrl = await closedPortUrl();
    silent = await startMisbehavingBackend(() => undefined);
    resetBeforeAnswer = await startMisbehavingBackend((s) => s.resetAndDestroy());
    const resetMidBody = await startMisbehavingBackend((s) => {
      s.write("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n" + "x".repeat(1000));
      setTimeout(() => s.resetAndDestroy(), 50);
    });
    const stallMidBody = await startMisbehavingBackend((s) => {
      s.write("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n" + "y".repeat(1000));
    });
    backends.push(silent, resetBeforeAnswer, resetMidBody, stallMidBody);
    const route = (name: string, upstream: string) => ({ name, pathPrefix: `/open-banking/${name}/`, upstream });
    edge = await startTestEdge({
      pki,
      upstream: downUrl,
      proxy: { headersTimeoutMs: 300, bodyTimeoutMs: 300, connectTimeoutMs: 1000 },
      routes: [
        route("down", downUrl),
        route("silent", silent.url),
        route("reset", resetBeforeAnswer.url),
        route("reset-mid-body", resetMidBody.url),
        route("stall-mid-body", stallMidBody.url),
      ],
    });
  });

  afterAll(async () => {
    await edge?.close();
    await Promise.all(backends.map((b) => b.close()));
  });

  async function expectOfbError(path: string, status: number, code: string) {
    const id = randomUUID();
    const res = await httpsRequest({ pki, port: edge.port, path, credentials: clientCredentials(pki, "participant-a"), headers: { "x-fapi-interaction-id": id } });
    expect(res.status).toBe(status);
    expect(res.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(res.headers["x-fapi-interaction-id"]).toBe(id);
    expect(res.headers.date).toBeDefined();
    const body = res.json<ErrorBody>();
    expect(body.errors[0]!.code).toBe(code);
    // The detail names the route, never the upstream's address.
    expect(body.errors[0]!.detail).not.toMatch(/127\.0\.0\.1|:\d{4,5}\b/);
    await vi.waitFor(() => expect(edge.logs.filter((l) => l.kind === "access" && l.interactionId === id)).toEqual([expect.objectContaining({ status, code, stage: "proxy", decision: "rejected" })]));
  }

  it("answers 502 UPSTREAM_UNAVAILABLE when the backend refuses the connection", async () => {
    await expectOfbError("/open-banking/down/accounts", 502, "UPSTREAM_UNAVAILABLE");
  });

  it("answers 502 UPSTREAM_UNAVAILABLE when the backend resets the connection before answering", async () => {
    const before = resetBeforeAnswer.heads();
    await expectOfbError("/open-banking/reset/accounts", 502, "UPSTREAM_UNAVAILABLE");
    // Not retried behind the client's back.
    expect(resetBeforeAnswer.heads()).toBe(before + 1);
  });

  it("answers 504 UPSTREAM_TIMEOUT when the backend never answers within proxy.headersTimeoutMs", async () => {
    const started = performance.now();
    await expectOfbError("/open-banking/silent/accounts", 504, "UPSTREAM_TIMEOUT");
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it("closes the client connection when the backend resets mid-response (the status line is already sent)", async () => {
    const { req, outcome } = openHttpsRequest({ pki, port: edge.port, method: "GET", path: "/open-banking/reset-mid-body/file", credentials: clientCredentials(pki, "participant-a") });
    req.end();
    const res = await outcome;
    expect(res.status).toBe(200);
    expect(res.aborted).toBe(true);
    expect(res.body.length).toBeLessThan(100_000);
  });

  it("closes the client connection when the backend stalls mid-response past proxy.bodyTimeoutMs", async () => {
    const { req, outcome } = openHttpsRequest({ pki, port: edge.port, method: "GET", path: "/open-banking/stall-mid-body/file", credentials: clientCredentials(pki, "participant-a") });
    req.end();
    const res = await outcome;
    expect(res.status).toBe(200);
    expect(res.aborted).toBe(true);
    expect(res.body.length).toBe(1000);
  });
});
