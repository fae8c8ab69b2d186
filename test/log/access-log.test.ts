import { randomUUID, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { connect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest } from "../helpers/client.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";

/** A bearer token that must never reach a log line, in any request position. */
const TOKEN = "eyJhbGciOiJQUzI1NiJ9.eyJzdWIiOiJsb2ctdGVzdCJ9.c2VjcmV0LXNpZ25hdHVyZS1kby1ub3QtbG9n";

type Line = Record<string, unknown>;

describe("access log (docs/architecture.md §Operations: one line per request, never a secret)", () => {
  let pki: TestPkiManifest;
  let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
  let edge: Awaited<ReturnType<typeof startTestEdge>>;

  beforeAll(async () => {
    pki = await testPki();
    backend = await startRecordingBackend();
    edge = await startTestEdge({ pki, upstream: backend.url });
  });

  afterAll(async () => {
    await edge?.close();
    await backend?.close();
  });

  const accessLines = (id: string) => edge.logs.filter((l) => l.kind === "access" && l.interactionId === id);

  /** Sends one request with a known interaction id and returns its single access line. */
  async function oneLine(request: Partial<Parameters<typeof httpsRequest>[0]>): Promise<Line> {
    const id = randomUUID();
    const res = await httpsRequest({ pki, port: edge.port, ...request, headers: { "x-fapi-interaction-id": id, ...request.headers } });
    await vi.waitFor(() => expect(accessLines(id)).toHaveLength(1));
    const line = accessLines(id)[0]!;
    expect(line.status).toBe(res.status);
    return line;
  }

  it("logs a forwarded request once, with participant-a's identity exactly as in the manifest", async () => {
    const a = pki.clients["participant-a"]!;
    const line = await oneLine({ credentials: clientCredentials(pki, "participant-a"), path: "/open-banking/accounts/v2/accounts?page=2" });
    expect(line).toMatchObject({
      level: "info",
      kind: "access",
      listener: "mtls",
      method: "GET",
      path: "/open-banking/accounts/v2/accounts",
      route: "open-banking",
      status: 200,
      decision: "forwarded",
      organisationId: a.organisationId,
      softwareStatementId: a.softwareStatementId,
      thumbprint: a.thumbprint,
      remoteAddress: "127.0.0.1",
    });
    expect(line.code).toBeUndefined();
    expect(typeof line.latencyMs).toBe("number");
    expect(line.latencyMs as number).toBeGreaterThanOrEqual(0);
  });

  it("logs a rejection with its decision, reason code and stage; no identity without a certificate", async () => {
    const line = await oneLine({});
    expect(line).toMatchObject({ kind: "access", route: "open-banking", status: 401, decision: "rejected", code: "CERT_REQUIRED", stage: "tls" });
    expect(line.organisationId).toBeUndefined();
    expect(line.thumbprint).toBeUndefined();
  });

  it("logs the thumbprint of a rejected certificate (for revocation look-ups) with the policy's reason", async () => {
    const line = await oneLine({ credentials: clientCredentials(pki, "other-ca") });
    expect(line).toMatchObject({ status: 401, decision: "rejected", code: "CERT_UNTRUSTED", stage: "pki", thumbprint: pki.clients["other-ca"]!.thumbprint });
    expect(line.organisationId).toBeUndefined();
  });

  it.each([
    ["other-ca", "unknown CA (chain does not reach a trust anchor)"],
    ["expired", "certificate expired"],
    ["not-yet-valid", "certificate not yet valid (clock skew?)"],
  ])("says why in operator terms, with the interaction id and the thumbprint: %s", async (client, reason) => {
    const line = await oneLine({ credentials: clientCredentials(pki, client) });
    expect(line).toMatchObject({ decision: "rejected", reason, thumbprint: pki.clients[client]!.thumbprint });
    expect(line.interactionId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("logs an unrouted request with route '-' and ROUTE_NOT_FOUND", async () => {
    const line = await oneLine({ credentials: clientCredentials(pki, "participant-a"), path: "/nowhere" });
    expect(line).toMatchObject({ route: "-", status: 404, decision: "rejected", code: "ROUTE_NOT_FOUND" });
  });

  it("writes exactly one access line per request (no duplicates, none missing)", async () => {
    const before = edge.logs.filter((l) => l.kind === "access").length;
    const ids = Array.from({ length: 5 }, () => randomUUID());
    for (const id of ids) await httpsRequest({ pki, port: edge.port, credentials: clientCredentials(pki, "participant-a"), headers: { "x-fapi-interaction-id": id } });
    await vi.waitFor(() => expect(edge.logs.filter((l) => l.kind === "access").length).toBe(before + ids.length));
    for (const id of ids) expect(accessLines(id)).toHaveLength(1);
  });

  it("gives a request the HTTP parser refuses (431) an access line with the interaction id it was answered with", async () => {
    const response = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: "127.0.0.1", port: edge.port, servername: "localhost", ca: readFileSync(pki.trustAnchors), ...clientCredentials(pki, "participant-a") });
      const chunks: Buffer[] = [];
      socket.on("secureConnect", () => socket.write(`GET /open-banking/x HTTP/1.1\r\nHost: localhost\r\nx-big: ${"b".repeat(20_000)}\r\n\r\n`));
      socket.on("data", (c: Buffer) => chunks.push(c));
      socket.on("error", reject);
      socket.on("close", () => resolve(Buffer.concat(chunks).toString()));
    });
    const id = /x-fapi-interaction-id: ([0-9a-f-]{36})/i.exec(response)?.[1];
    expect(id).toBeDefined();
    await vi.waitFor(() => expect(accessLines(id!)).toEqual([expect.objectContaining({ status: 431, code: "REQUEST_HEADERS_TOO_LARGE", decision: "rejected" })]));
  });

  it("never logs the bearer token (header or query), the client certificate or a private key, on any line", async () => {
    const credentials = clientCredentials(pki, "participant-a");
    const requests: Partial<Parameters<typeof httpsRequest>[0]>[] = [
      { credentials, headers: { authorization: `Bearer ${TOKEN}` }, path: `/open-banking/accounts/v2/accounts?access_token=${TOKEN}` },
      { credentials, headers: { authorization: `Bearer ${TOKEN}`, cookie: `session=${TOKEN}` }, path: `/nowhere?access_token=${TOKEN}` },
      { headers: { authorization: `Bearer ${TOKEN}` }, path: `/open-banking/accounts?token=${TOKEN}` },
      { credentials, headers: { authorization: `Bearer ${TOKEN}` }, path: `/open-banking/../x?access_token=${TOKEN}` },
      { credentials, headers: { authorization: `Bearer ${TOKEN}`, "x-fapi-interaction-id": TOKEN }, path: "/open-banking/accounts" },
    ];
    for (const r of requests) await httpsRequest({ pki, port: edge.port, ...r });
    await vi.waitFor(() => expect(edge.logs.filter((l) => l.kind === "access").length).toBeGreaterThanOrEqual(requests.length));

    const leafDer = new X509Certificate(readFileSync(pki.clients["participant-a"]!.cert)).raw.toString("base64");
    const keyBody = readFileSync(pki.clients["participant-a"]!.key, "utf8").split("\n").filter((l) => l && !l.startsWith("-----")).join("");
    const forbidden = [TOKEN, "-----BEGIN", leafDer.slice(0, 64), leafDer.slice(-64), keyBody.slice(0, 64), keyBody.slice(-64)];
    for (const line of edge.logs) {
      const text = JSON.stringify(line);
      for (const secret of forbidden) expect(text.includes(secret), `log line contains a secret: ${text.slice(0, 200)}`).toBe(false);
      // A base64 run the size of a certificate or key (≥ 200 characters) has no business in a log line.
      expect(text).not.toMatch(/[A-Za-z0-9+/]{200,}/);
    }
  });
});
