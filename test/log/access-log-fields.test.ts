import { randomUUID, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { openRedisDenyList, type DenyList } from "../../src/deny/deny-list.js";
import { startAuthorizationServerStub, type AuthorizationServerStub } from "../../src/dev/authorization-server.js";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { FAPI_TLS12_SUITES, TLS13_SUITES } from "../../src/tls/profile.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest, type TestRequest } from "../helpers/client.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";
import { redisUrl, uniquePrefix } from "../helpers/redis.js";

/**
 * The access line is the audit trail: README "Access log fields" is its contract. Every documented field shows up
 * (those marked "always" on every line), no line carries a field the README does not document, each has its
 * documented type, the new fields carry the right values, and no token, key or PEM is in any line.
 */

const README = readFileSync(resolve(import.meta.dirname, "../../README.md"), "utf8");
const TOKEN_IN_USER_AGENT = "eyJhbGciOiJQUzI1NiJ9.eyJzdWIiOiJ1YS10ZXN0In0.c2lnbmF0dXJlLWluLXRoZS11c2VyLWFnZW50";

type Line = Record<string, unknown>;
interface Field {
  readonly name: string;
  readonly type: string;
  readonly always: boolean;
}

/** The table under "### Access log fields": name, type and whether it is always present. */
function documentedFields(): Field[] {
  const section = README.slice(README.indexOf("### Access log fields"));
  const table = section.slice(0, section.indexOf("\n\n", section.indexOf("| Field |")));
  return [...table.matchAll(/^\| `([A-Za-z]+)` \| (string|number) \| ([^|]+) \|/gm)].map((m) => ({ name: m[1]!, type: m[2]!, always: m[3]!.trim() === "always" }));
}

let pki: TestPkiManifest;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
let as: AuthorizationServerStub;
let deny: DenyList;
let edge: Awaited<ReturnType<typeof startTestEdge>>;
/** participant-a's token: with its certificate, requests are forwarded. */
let tokenA: string;

beforeAll(async () => {
  pki = await testPki();
  backend = await startRecordingBackend();
  as = await startAuthorizationServerStub();
  const keyPrefix = uniquePrefix();
  deny = await openRedisDenyList({ url: redisUrl(), keyPrefix, connectTimeoutMs: 2_000, subscribe: false });
  edge = await startTestEdge({
    pki,
    upstream: backend.url,
    authorizationServer: { issuer: as.issuer },
    denyList: { url: redisUrl(), keyPrefix },
    routes: [
      { name: "open-banking", pathPrefix: "/open-banking/", upstream: backend.url },
      { name: "report", pathPrefix: "/report/", upstream: backend.url, binding: "report" },
    ],
  });
  tokenA = await as.issueJwt({ thumbprint: pki.clients["participant-a"]!.thumbprint, claims: { client_id: "client-of-a" } });
});

afterAll(async () => {
  await edge?.close();
  await deny?.close();
  await as?.close();
  await backend?.close();
});

/** Sends one request and returns the client's response and the request's single access line. */
async function exchange(request: Partial<TestRequest>) {
  const id = randomUUID();
  const res = await httpsRequest({ pki, port: edge.port, ...request, headers: { "x-fapi-interaction-id": id, ...request.headers } });
  await vi.waitFor(() => expect(edge.logs.filter((l) => l.kind === "access" && l.interactionId === id)).toHaveLength(1));
  return { res, line: edge.logs.find((l) => l.kind === "access" && l.interactionId === id)! };
}

describe("access log: the documented, stable field list", () => {
  it("the README documents the fields, the new audit fields among them", () => {
    const names = documentedFields().map((f) => f.name);
    expect(names).toEqual(expect.arrayContaining(["userAgent", "host", "requestBytes", "responseBytes", "tlsVersion", "tlsCipher", "upstreamMs", "upstreamStatus", "denyReason"]));
    expect(names.length).toBeGreaterThan(30);
  });

  it("every documented field appears, 'always' ones on every line, with its documented type, and nothing undocumented", async () => {
    const a = pki.clients["participant-a"]!;
    const c = pki.clients["participant-c"]!;
    const tokenC = await as.issueJwt({ thumbprint: c.thumbprint });
    const agent = { "user-agent": "ofb-test-client/1.0" };
    await deny.add({ kind: "thumbprint", value: c.thumbprint, reason: "key compromise, ticket 4711", addedAt: new Date().toISOString(), expiresAt: null });
    await vi.waitFor(async () => expect((await httpsRequest({ pki, port: edge.port, credentials: clientCredentials(pki, "participant-c"), headers: { authorization: `Bearer ${tokenC}` } })).status).toBe(401));

    const lines: Line[] = [];
    for (const request of [
      // Forwarded with a verified token: identity, client id, upstream status and time.
      { credentials: clientCredentials(pki, "participant-a"), headers: { ...agent, authorization: `Bearer ${tokenA}` } },
      // A rejected chain: code, reason, stage, certIndex, detail, thumbprint.
      { credentials: clientCredentials(pki, "expired"), headers: agent },
      // Denied: the operator's reason.
      { credentials: clientCredentials(pki, "participant-c"), headers: { ...agent, authorization: `Bearer ${tokenC}` } },
      // A report route: A's token presented with B's certificate is forwarded, and the failed rule logged.
      { credentials: clientCredentials(pki, "participant-b"), path: "/report/x", headers: { ...agent, authorization: `Bearer ${tokenA}` } },
    ] satisfies Partial<TestRequest>[]) {
      lines.push((await exchange(request)).line);
    }
    expect(lines.map((l) => l.status)).toEqual([200, 401, 401, 200]);

    const fields = documentedFields();
    const documented = new Set(fields.map((f) => f.name));
    for (const line of lines) {
      for (const key of Object.keys(line)) expect(documented.has(key), `undocumented access-log field '${key}'`).toBe(true);
    }
    // `worker` is there only with workers > 1 (this edge runs in one process): see metrics-two-workers for those lines.
    for (const f of fields.filter((x) => x.name !== "worker")) {
      const present = lines.filter((l) => l[f.name] !== undefined);
      expect(present.length, `no access line has '${f.name}'`).toBeGreaterThan(0);
      if (f.always) expect(present.length, `'${f.name}' is documented as always present`).toBe(lines.length);
      for (const l of present) expect(typeof l[f.name], f.name).toBe(f.type);
    }
    expect(lines[2]).toMatchObject({ code: "CERT_DENIED", denyReason: "key compromise, ticket 4711" });
    expect(lines.map((l) => l.tlsVersion)).toEqual(["TLSv1.3", "TLSv1.3", "TLSv1.3", "TLSv1.3"]);
    expect(lines[3]).toMatchObject({ decision: "forwarded", bindingReport: "TOKEN_BINDING_MISMATCH", upstreamStatus: 200 });
    expect(lines[0]).toMatchObject({ clientId: "client-of-a", organisationId: a.organisationId });
  });

  it("host and user agent as received; TLS version and cipher of the connection", async () => {
    const credentials = clientCredentials(pki, "participant-a");
    const authorization = `Bearer ${tokenA}`;
    const tls13 = (await exchange({ credentials, headers: { authorization, "user-agent": "curl/8.5.0" }, path: "/report/a" })).line;
    expect(tls13).toMatchObject({ status: 200, host: `127.0.0.1:${edge.port}`, userAgent: "curl/8.5.0", tlsVersion: "TLSv1.3" });
    expect(TLS13_SUITES).toContain(tls13.tlsCipher);
    const tls12 = (await exchange({ credentials, headers: { authorization, host: "api.bank.example" }, path: "/report/b", tls: { maxVersion: "TLSv1.2" } })).line;
    expect(tls12).toMatchObject({ status: 200, host: "api.bank.example", tlsVersion: "TLSv1.2" });
    expect(FAPI_TLS12_SUITES).toContain(tls12.tlsCipher);
    expect(tls12.userAgent).toBeUndefined();
  });

  it("request and response body bytes, upstream time and status", async () => {
    const credentials = clientCredentials(pki, "participant-a");
    const authorization = `Bearer ${tokenA}`;
    const body = JSON.stringify({ data: { amount: "100.00", note: "x".repeat(500) } });
    const declared = await exchange({ credentials, method: "POST", path: "/report/pay", body, headers: { authorization, "content-type": "application/json" } });
    expect(declared.res.status).toBe(200);
    expect(declared.line).toMatchObject({ requestBytes: Buffer.byteLength(body), responseBytes: declared.res.body.length, upstreamStatus: 200 });
    expect(declared.line.upstreamMs as number).toBeGreaterThanOrEqual(0);
    expect(declared.line.upstreamMs as number).toBeLessThanOrEqual(declared.line.latencyMs as number);
    const chunked = await exchange({ credentials, method: "POST", path: "/report/pay", body, headers: { authorization, "content-type": "application/json", "transfer-encoding": "chunked" } });
    expect(backend.received.at(-1)!.body.toString()).toBe(body);
    expect(chunked.line).toMatchObject({ requestBytes: Buffer.byteLength(body), responseBytes: chunked.res.body.length });
    // The edge's own answer: its OFB error body; no upstream fields, since the backend never saw the request.
    const refused = await exchange({ path: "/open-banking/x" });
    expect(refused.res.status).toBe(401);
    expect(refused.line).toMatchObject({ requestBytes: 0, responseBytes: refused.res.body.length });
    expect(refused.line.upstreamMs).toBeUndefined();
    expect(refused.line.upstreamStatus).toBeUndefined();
  });

  it("a hostile user agent or host is bounded and sanitised, and a token in it is never logged", async () => {
    const credentials = clientCredentials(pki, "participant-a");
    // Obsolete text (a Latin-1 byte) and a tab are valid in a field value (RFC 9110 §5.5), not in a log line.
    const hostile = `evil\u00e9\tagent ${TOKEN_IN_USER_AGENT} ${"A ".repeat(1_000)}`;
    const { line } = await exchange({ credentials, path: "/report/ua", headers: { authorization: `Bearer ${tokenA}`, "user-agent": hostile, host: `${"sub.".repeat(100)}bank.example` } });
    expect(line.status).toBe(200);
    const userAgent = line.userAgent as string;
    expect(userAgent.length).toBeLessThanOrEqual(256);
    expect(userAgent).toMatch(/^[\x20-\x7E]+$/);
    expect(userAgent.startsWith("evil??agent [redacted] A A A")).toBe(true);
    expect((line.host as string).length).toBeLessThanOrEqual(262);
    const text = JSON.stringify(edge.logs);
    expect(text).not.toContain(TOKEN_IN_USER_AGENT);
    expect(text).not.toContain(TOKEN_IN_USER_AGENT.split(".")[2]);
  });

  it("no token, key or PEM in any line this file's requests produced", () => {
    const leafDer = new X509Certificate(readFileSync(pki.clients["participant-a"]!.cert)).raw.toString("base64");
    const keyBody = readFileSync(pki.clients["participant-a"]!.key, "utf8").split("\n").filter((l) => l && !l.startsWith("-----")).join("");
    for (const line of edge.logs) {
      const text = JSON.stringify(line);
      for (const secret of ["-----BEGIN", "eyJhbGciOi", leafDer.slice(0, 64), keyBody.slice(0, 64)]) expect(text.includes(secret), `log line contains a secret: ${text.slice(0, 200)}`).toBe(false);
      expect(text).not.toMatch(/[A-Za-z0-9+/]{200,}/);
    }
  });
});
