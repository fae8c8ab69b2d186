import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { STATUS_BY_CODE, TITLE_BY_CODE, type EdgeErrorCode } from "../../src/errors.js";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { freePort, startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest, type TestResponse } from "../helpers/client.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";

type Body = { errors: { code: string; title: string; detail: string }[]; meta: { requestDateTime: string } };

/** The edge's injected clock, pinned so that meta.requestDateTime can be compared exactly. */
const NOW = new Date(Math.floor(Date.now() / 1000) * 1000 + 456);
const NOW_RFC3339 = `${NOW.toISOString().slice(0, 19)}Z`;

describe("edge rejections in the OFB ResponseError format (docs/architecture.md §Errors)", () => {
  let pki: TestPkiManifest;
  let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
  let edge: Awaited<ReturnType<typeof startTestEdge>>;

  beforeAll(async () => {
    pki = await testPki();
    backend = await startRecordingBackend();
    const downUrl = `http://127.0.0.1:${await freePort()}`;
    edge = await startTestEdge({
      pki,
      upstream: backend.url,
      clock: () => NOW,
      proxy: { maxRequestBodyBytes: 1024 },
      routes: [
        { name: "open-banking", pathPrefix: "/open-banking/", upstream: backend.url },
        { name: "down", pathPrefix: "/down/", upstream: downUrl },
      ],
    });
  });

  afterAll(async () => {
    await edge?.close();
    await backend?.close();
  });

  /** Asserts the full OFB error contract for one rejection and that nothing reached the backend. */
  async function expectRejection(code: EdgeErrorCode, stage: string, request: Partial<Parameters<typeof httpsRequest>[0]>): Promise<TestResponse> {
    const before = backend.received.length;
    const id = randomUUID();
    const res = await httpsRequest({ pki, port: edge.port, ...request, headers: { "x-fapi-interaction-id": id, ...request.headers } });
    expect(res.status).toBe(STATUS_BY_CODE[code]);
    expect(res.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(res.headers["x-fapi-interaction-id"]).toBe(id);
    expect(res.headers.date).toBeDefined();
    const body = res.json<Body>();
    expect(Object.keys(body).sort()).toEqual(["errors", "meta"]);
    expect(body.errors).toHaveLength(1);
    expect(Object.keys(body.errors[0]!).sort()).toEqual(["code", "detail", "title"]);
    expect(body.errors[0]!.code).toBe(code);
    expect(body.errors[0]!.title).toBe(TITLE_BY_CODE[code]);
    expect(body.errors[0]!.detail.length).toBeGreaterThan(0);
    expect(body.errors[0]!.detail.length).toBeLessThanOrEqual(2048);
    expect(body.meta).toEqual({ requestDateTime: NOW_RFC3339 });
    expect(body.meta.requestDateTime.length).toBeLessThanOrEqual(20);
    expect(backend.received).toHaveLength(before);
    // Logs carry the same code and stage as the body (docs/architecture.md §Errors).
    await vi.waitFor(() =>
      expect(edge.logs.filter((l) => l.kind === "access" && l.interactionId === id)).toEqual([
        expect.objectContaining({ decision: "rejected", code, stage, status: STATUS_BY_CODE[code] }),
      ]),
    );
    return res;
  }

  // One reason code per pipeline stage: the status comes from the one table.
  it("tls stage: no client certificate on an mTLS route → 401 CERT_REQUIRED (docs/architecture.md, decision D3)", async () => {
    await expectRejection("CERT_REQUIRED", "tls", {});
  });

  it("pki stage: a certificate from an unrelated hierarchy → 401 CERT_UNTRUSTED", async () => {
    await expectRejection("CERT_UNTRUSTED", "pki", { credentials: clientCredentials(pki, "other-ca") });
  });

  it("identity stage: a certificate without a software statement id (UID) → 401 IDENTITY_SOFTWARE_STATEMENT_MISSING", async () => {
    await expectRejection("IDENTITY_SOFTWARE_STATEMENT_MISSING", "identity", { credentials: clientCredentials(pki, "no-uid") });
  });

  it("http stage: an unrouted path → 404 ROUTE_NOT_FOUND", async () => {
    await expectRejection("ROUTE_NOT_FOUND", "http", { path: "/admin/users", credentials: clientCredentials(pki, "participant-a") });
  });

  it("http stage: a missing interaction id → 400 INTERACTION_ID_INVALID (a generated id is echoed)", async () => {
    const before = backend.received.length;
    const res = await httpsRequest({ pki, port: edge.port, credentials: clientCredentials(pki, "participant-a"), interactionId: false });
    expect(res.status).toBe(400);
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(res.json<Body>().errors[0]!.code).toBe("INTERACTION_ID_INVALID");
    expect(backend.received).toHaveLength(before);
  });

  it("proxy stage: a declared body above proxy.maxRequestBodyBytes → 413 REQUEST_TOO_LARGE", async () => {
    await expectRejection("REQUEST_TOO_LARGE", "proxy", { method: "POST", body: "x".repeat(2048), credentials: clientCredentials(pki, "participant-a") });
  });

  it("proxy stage: an unreachable backend → 502 UPSTREAM_UNAVAILABLE", async () => {
    await expectRejection("UPSTREAM_UNAVAILABLE", "proxy", { path: "/down/accounts", credentials: clientCredentials(pki, "participant-a") });
  });

  // Prefix routing is only sound on paths every hop reads the same way (path confusion): refuse, never normalise.
  const badPaths = {
    "dot-dot segment": "/open-banking/../admin",
    "dot segment": "/open-banking/./accounts",
    "trailing dot-dot": "/open-banking/accounts/..",
    "percent-encoded dot-dot": "/open-banking/%2e%2e/admin",
    "percent-encoded dot-dot (upper case)": "/open-banking/%2E%2E/admin",
    "encoded slash": "/open-banking/accounts%2Fv2",
    "encoded backslash": "/open-banking/accounts%5cv2",
    "encoded NUL": "/open-banking/accounts%00",
    "empty segment": "/open-banking//accounts",
  };
  for (const [name, path] of Object.entries(badPaths)) {
    it(`http stage: ${name} in the path → 400 REQUEST_PATH_INVALID, nothing forwarded`, async () => {
      await expectRejection("REQUEST_PATH_INVALID", "http", { path, credentials: clientCredentials(pki, "participant-a") });
    });
  }

  it("does not reject encoded characters in the query, where they are ordinary data", async () => {
    const before = backend.received.length;
    const res = await httpsRequest({ pki, port: edge.port, path: "/open-banking/accounts?next=%2Fa%2F..%2Fb", credentials: clientCredentials(pki, "participant-a") });
    expect(res.status).toBe(200);
    expect(backend.received).toHaveLength(before + 1);
    expect(backend.received.at(-1)!.url).toBe("/open-banking/accounts?next=%2Fa%2F..%2Fb");
  });
});
