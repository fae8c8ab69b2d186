import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConfigInput } from "../../src/config/schema.js";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { startBindingStack, type BindingStack, type ErrorBody } from "../helpers/binding.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";
import { h2Close, h2Connect, h2Request, type H2Response } from "../helpers/h2-client.js";
import { startCrlServer, type CrlServer } from "../revocation/crl-server.js";
import { createDpPki, type DpClient, type DpPki } from "../revocation/dp-pki.js";
import { HOUR, signCrl } from "../revocation/fixtures.js";

// Every refusal over HTTP/2 is the one HTTP/1.1 gets: the OFB error body from the same stage, and nothing reaches
// the backend. A strict listener refuses at the connection, before any stream.

let pki: TestPkiManifest;
let stack: BindingStack;

beforeAll(async () => {
  pki = await testPki();
  stack = await startBindingStack({ pki });
});

afterAll(async () => {
  await stack?.close();
});

function expectOfb(res: H2Response, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(res.headers["content-type"]).toBe("application/json; charset=utf-8");
  expect(res.json<ErrorBody>().errors[0]!.code).toBe(code);
  expect(res.headers["x-fapi-interaction-id"]).toMatch(/^[0-9a-f-]{36}$/);
}

/** One HTTP/2 request on a new connection: the response, or "closed" when the connection or stream was refused. */
async function once(port: number, credentials: { cert: Buffer; key: Buffer } | undefined, headers: Record<string, string> = {}): Promise<H2Response | "closed"> {
  let session;
  try {
    session = await h2Connect(pki, port, credentials);
    return await h2Request(session, { headers });
  } catch {
    return "closed";
  } finally {
    if (session) await h2Close(session);
  }
}

describe("refusals over HTTP/2 (permissive listener, token binding enforced)", () => {
  it("no certificate on an mTLS route: 401 CERT_REQUIRED with a challenge; nothing forwarded", async () => {
    const before = stack.backend.received.length;
    const token = await stack.stub.issueJwt({ thumbprint: stack.thumbprint("participant-a") });
    const res = await once(stack.edge.port, undefined, { authorization: `Bearer ${token}` });
    if (res === "closed") throw new Error("refused at the connection");
    expectOfb(res, 401, "CERT_REQUIRED");
    expect(res.headers["www-authenticate"]).toMatch(/^Bearer /);
    expect(stack.backend.received.length).toBe(before);
  });

  it("on one connection: no token 401 TOKEN_MISSING, another client's token 401 TOKEN_BINDING_MISMATCH, its own 200; only that one forwarded", async () => {
    const before = stack.backend.received.length;
    const session = await h2Connect(pki, stack.edge.port, clientCredentials(pki, "participant-a"));
    try {
      const [own, others] = await Promise.all([stack.stub.issueJwt({ thumbprint: stack.thumbprint("participant-a") }), stack.stub.issueJwt({ thumbprint: stack.thumbprint("participant-b") })]);
      const missing = await h2Request(session);
      expectOfb(missing, 401, "TOKEN_MISSING");
      expect(missing.headers["www-authenticate"]).toBe("Bearer");
      expectOfb(await h2Request(session, { headers: { authorization: `Bearer ${others}` } }), 401, "TOKEN_BINDING_MISMATCH");
      expect(stack.backend.received.length).toBe(before);
      expect((await h2Request(session, { headers: { authorization: `Bearer ${own}` } })).status).toBe(200);
      expect(stack.backend.received.length).toBe(before + 1);
    } finally {
      await h2Close(session);
    }
  });
});

describe("revocation over HTTP/2", () => {
  const DELAY_MS = 300;
  let dir: string;
  let crls: CrlServer;
  let dp: DpPki;
  let backend: Awaited<ReturnType<typeof startRecordingBackend>>;

  beforeAll(async () => {
    [crls, backend, dir] = await Promise.all([startCrlServer(), startRecordingBackend(), mkdtemp(join(tmpdir(), "ofb-edge-h2-revocation-"))]);
    dp = await createDpPki(dir, (n) => crls.url(`/${n}.crl`));
    const dates = { thisUpdate: new Date(Date.now() - 60_000), nextUpdate: new Date(Date.now() + HOUR) };
    const [root, a] = await Promise.all([signCrl(dp.root, dates), signCrl(dp.acs.a, { ...dates, revoked: [{ serial: dp.clients.a.revoked.serial }] })]);
    crls.serve("/root.crl", { body: root, delayMs: DELAY_MS });
    crls.serve("/a.crl", { body: a, delayMs: DELAY_MS });
  });

  afterAll(async () => {
    await crls?.close();
    await backend?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function startEdge(mode: "strict" | "permissive", revocation: ConfigInput["revocation"] = { onStale: "hard-fail" }) {
    const tls = { cert: pki.server.cert, key: pki.server.key, trustAnchors: [dp.anchors] };
    return startTestEdge({ pki, upstream: backend.url, listeners: [{ name: "mtls", host: "127.0.0.1", port: 0, mode, tls }], policy: { transportRoots: tls.trustAnchors }, revocation });
  }
  const credentials = (c: DpClient) => ({ cert: readFileSync(c.chainFile), key: readFileSync(c.keyFile) });

  it("permissive: a revoked certificate is 401 CERT_REVOKED; nothing forwarded", async () => {
    const edge = await startEdge("permissive");
    try {
      const before = backend.received.length;
      const res = await once(edge.port, credentials(dp.clients.a.revoked));
      if (res === "closed") throw new Error("refused at the connection");
      expectOfb(res, 401, "CERT_REVOKED");
      expect(backend.received.length).toBe(before);
    } finally {
      await edge.close();
    }
  });

  it("strict: the streams of a first connection wait for its AC's first CRL; the revoked one's connection is closed, the good one's are served", async () => {
    for (const [client, expected] of [
      [dp.clients.a.revoked, "closed"],
      [dp.clients.a.good, 200],
    ] as const) {
      const edge = await startEdge("strict");
      try {
        const before = backend.received.length;
        const t0 = performance.now();
        const session = await h2Connect(pki, edge.port, credentials(client)).catch(() => null);
        const outcomes = session ? await Promise.all([1, 2, 3].map(() => h2Request(session).then((r) => r.status, () => "closed"))) : ["closed"];
        if (session) await h2Close(session);
        expect(new Set(outcomes)).toEqual(new Set([expected]));
        expect(performance.now() - t0).toBeGreaterThanOrEqual(DELAY_MS - 20);
        expect(backend.received.length).toBe(before + (expected === 200 ? 3 : 0));
        const refusals = edge.logs.filter((l) => l.kind === "tls" && l.event === "client-certificate-rejected");
        expect(refusals).toEqual(expected === 200 ? [] : [expect.objectContaining({ code: "CERT_REVOKED", rule: "revocation", action: "connection closed" })]);
      } finally {
        await edge.close();
      }
    }
  });
});

describe("strict listener over HTTP/2", () => {
  let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
  let edge: Awaited<ReturnType<typeof startTestEdge>>;

  beforeAll(async () => {
    backend = await startRecordingBackend();
    edge = await startTestEdge({ pki, upstream: backend.url, mode: "strict" });
  });

  afterAll(async () => {
    await edge?.close();
    await backend?.close();
  });

  it.each([
    ["no certificate", undefined, "ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE"],
    ["an expired certificate", "expired", "CERT_HAS_EXPIRED"],
    ["a certificate without a software statement id", "no-uid", "IDENTITY_SOFTWARE_STATEMENT_MISSING"],
  ] as const)("%s: refused at the connection, before any stream; logged; nothing forwarded", async (_what, client, code) => {
    const before = backend.received.length;
    expect(await once(edge.port, client ? clientCredentials(pki, client) : undefined)).toBe("closed");
    expect(backend.received.length).toBe(before);
    expect(edge.logs.some((l) => l.kind === "tls" && (l.code === code || l.authorizationError === code))).toBe(true);
  });

  it("an accepted certificate is served over HTTP/2", async () => {
    const res = await once(edge.port, clientCredentials(pki, "participant-a"));
    expect(res === "closed" ? res : res.status).toBe(200);
  });
});
