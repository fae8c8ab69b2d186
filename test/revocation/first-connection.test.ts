import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConfigInput } from "../../src/config/schema.js";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest } from "../helpers/client.js";
import { startTestEdge, testPki } from "../helpers/edge.js";
import { startCrlServer, type CrlServer } from "./crl-server.js";
import { createDpPki, type DpClient, type DpPki } from "./dp-pki.js";
import { HOUR, signCrl } from "./fixtures.js";

/**
 * A revoked certificate on the very first connection after start (RFC 5280 §6.3: a certificate is checked
 * against a current CRL of its issuer). The certificates name this test's CRL server as their distribution
 * points, which answers 300 ms late: the edge learns each AC's CRL location from the first certificate it
 * issued that a client presents, and that connection waits for the CRL instead of being decided without it.
 */

const DELAY_MS = 300;
let pki: TestPkiManifest;
let dir: string;
let crls: CrlServer;
let dp: DpPki;
/** Same shape, distribution points under /down/ (answers chosen per test: 404, never). */
let down: DpPki;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;

beforeAll(async () => {
  [pki, crls, backend, dir] = await Promise.all([testPki(), startCrlServer(), startRecordingBackend(), mkdtemp(join(tmpdir(), "ofb-edge-first-connection-"))]);
  [dp, down] = await Promise.all([createDpPki(dir, (n) => crls.url(`/${n}.crl`)), mkdtemp(join(dir, "down-")).then((d) => createDpPki(d, (n) => crls.url(`/down/${n}.crl`)))]);
  const now = Date.now();
  const dates = { thisUpdate: new Date(now - 60_000), nextUpdate: new Date(now + HOUR) };
  const [root, a, b, downRoot] = await Promise.all([
    signCrl(dp.root, dates),
    signCrl(dp.acs.a, { ...dates, revoked: [{ serial: dp.clients.a.revoked.serial }] }),
    signCrl(dp.acs.b, { ...dates, revoked: [{ serial: dp.clients.b.revoked.serial }] }),
    signCrl(down.root, dates),
  ]);
  crls.serve("/root.crl", { body: root, delayMs: DELAY_MS });
  crls.serve("/a.crl", { body: a, delayMs: DELAY_MS });
  crls.serve("/b.crl", { body: b, delayMs: DELAY_MS });
  crls.serve("/down/root.crl", { body: downRoot });
});

afterAll(async () => {
  await crls?.close();
  await backend?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function startEdge(o: { mode: "strict" | "permissive"; revocation: ConfigInput["revocation"]; anchors?: string }) {
  const tls = { cert: pki.server.cert, key: pki.server.key, trustAnchors: [o.anchors ?? dp.anchors] };
  return startTestEdge({ pki, upstream: backend.url, listeners: [{ name: "mtls", host: "127.0.0.1", port: 0, mode: o.mode, tls }], policy: { transportRoots: tls.trustAnchors }, revocation: o.revocation });
}

/** One request on a new connection: its status and error code, or "closed" when the connection was refused; and how long it took. */
async function send(port: number, client: DpClient): Promise<{ outcome: number | "closed"; code?: string; ms: number }> {
  const t0 = performance.now();
  const credentials = { cert: readFileSync(client.chainFile), key: readFileSync(client.keyFile) };
  try {
    const res = await httpsRequest({ pki, port, credentials });
    const code = res.status === 200 ? undefined : res.json<{ errors: { code: string }[] }>().errors[0]!.code;
    return { outcome: res.status, ...(code && { code }), ms: performance.now() - t0 };
  } catch {
    return { outcome: "closed", ms: performance.now() - t0 };
  }
}

describe.each(["soft-fail", "hard-fail"] as const)("the very first connection after start (%s)", (onStale) => {
  it("permissive: the revoked client's first connection waits for its AC's first CRL and is 401 CERT_REVOKED, nothing forwarded", async () => {
    const edge = await startEdge({ mode: "permissive", revocation: { onStale } });
    try {
      const before = { backend: backend.received.length, ac: crls.hits("/a.crl"), root: crls.hits("/root.crl") };
      const first = await send(edge.port, dp.clients.a.revoked);
      expect([first.outcome, first.code]).toEqual([401, "CERT_REVOKED"]);
      expect(first.ms).toBeGreaterThanOrEqual(DELAY_MS - 20);
      expect(backend.received.length).toBe(before.backend);
      // The AC's CRL (learned from the leaf) and the root's (learned from the AC), once each.
      expect([crls.hits("/a.crl") - before.ac, crls.hits("/root.crl") - before.root]).toEqual([1, 1]);
      expect(edge.logs.some((l) => l.event === "crl-missing")).toBe(false);
      expect(edge.logs.find((l) => l.kind === "access" && l.code === "CERT_REVOKED")).toMatchObject({ certIndex: 0, reason: "revoked (CRL or OCSP)" });
    } finally {
      await edge.close();
    }
  });

  it("permissive: the good client's first connection is forwarded once the CRL is in (not refused while it loads)", async () => {
    const edge = await startEdge({ mode: "permissive", revocation: { onStale } });
    try {
      const before = backend.received.length;
      const first = await send(edge.port, dp.clients.a.good);
      expect(first.outcome).toBe(200);
      expect(first.ms).toBeGreaterThanOrEqual(DELAY_MS - 20);
      expect(backend.received.length).toBe(before + 1);
    } finally {
      await edge.close();
    }
  });

  it("strict: the revoked client's first connection is closed with the logged reason; the good client's first is accepted", async () => {
    for (const [client, expected] of [
      [dp.clients.a.revoked, "closed"],
      [dp.clients.a.good, 200],
    ] as const) {
      const edge = await startEdge({ mode: "strict", revocation: { onStale } });
      try {
        const before = backend.received.length;
        const first = await send(edge.port, client);
        expect(first.outcome).toBe(expected);
        expect(first.ms).toBeGreaterThanOrEqual(DELAY_MS - 20);
        expect(backend.received.length).toBe(before + (expected === 200 ? 1 : 0));
        const refusals = edge.logs.filter((l) => l.kind === "tls" && l.event === "client-certificate-rejected");
        expect(refusals).toEqual(expected === 200 ? [] : [expect.objectContaining({ code: "CERT_REVOKED", rule: "revocation", certIndex: 0, action: "connection closed" })]);
      } finally {
        await edge.close();
      }
    }
  });
});

describe("first connections arriving together", () => {
  it("share one fetch per AC: the good ones are forwarded and the revoked ones refused (hard-fail)", async () => {
    const edge = await startEdge({ mode: "permissive", revocation: { onStale: "hard-fail" } });
    try {
      const before = { backend: backend.received.length, ac: crls.hits("/b.crl"), root: crls.hits("/root.crl") };
      const clients = [dp.clients.b.good, dp.clients.b.revoked, dp.clients.b.good, dp.clients.b.revoked, dp.clients.b.good];
      const results = await Promise.all(clients.map((c) => send(edge.port, c)));
      expect(results.map((r) => r.code ?? r.outcome)).toEqual([200, "CERT_REVOKED", 200, "CERT_REVOKED", 200]);
      expect([crls.hits("/b.crl") - before.ac, crls.hits("/root.crl") - before.root]).toEqual([1, 1]);
      expect(backend.received.length).toBe(before.backend + 3);
    } finally {
      await edge.close();
    }
  });
});

describe("the first fetch failing", () => {
  it("HTTP 404: soft-fail accepts the first connection (logged), hard-fail refuses it CERT_REVOCATION_UNAVAILABLE", async () => {
    crls.serve("/down/a.crl", { status: 404 });
    const soft = await startEdge({ mode: "permissive", revocation: { onStale: "soft-fail" }, anchors: down.anchors });
    const hard = await startEdge({ mode: "permissive", revocation: { onStale: "hard-fail" }, anchors: down.anchors });
    try {
      const before = backend.received.length;
      expect((await send(soft.port, down.clients.a.revoked)).outcome).toBe(200);
      expect(soft.logs.find((l) => l.event === "crl-missing")).toMatchObject({ ac: "AC TESTE DP A", reason: expect.stringContaining("HTTP 404") });
      expect(backend.received.length).toBe(before + 1);
      const refused = await send(hard.port, down.clients.a.good);
      expect([refused.outcome, refused.code]).toEqual([503, "CERT_REVOCATION_UNAVAILABLE"]);
      expect(backend.received.length).toBe(before + 1);
    } finally {
      await Promise.all([soft.close(), hard.close()]);
    }
  });

  it("a CRL host that never answers holds first connections for firstFetchWaitMs, once: then onStale decides", async () => {
    crls.serve("/down/b.crl", { hang: true });
    const wait = 600;
    const soft = await startEdge({ mode: "permissive", revocation: { onStale: "soft-fail", firstFetchWaitMs: wait }, anchors: down.anchors });
    const hard = await startEdge({ mode: "permissive", revocation: { onStale: "hard-fail", firstFetchWaitMs: wait }, anchors: down.anchors });
    try {
      const before = backend.received.length;
      const [accepted, refused] = await Promise.all([send(soft.port, down.clients.b.good), send(hard.port, down.clients.b.good)]);
      expect([accepted.outcome, refused.outcome, refused.code]).toEqual([200, 503, "CERT_REVOCATION_UNAVAILABLE"]);
      for (const r of [accepted, refused]) {
        expect(r.ms).toBeGreaterThanOrEqual(wait - 20);
        expect(r.ms).toBeLessThan(wait + 1_500);
      }
      expect(backend.received.length).toBe(before + 1);
      // The bound is the first fetch's, not each connection's: the next connection does not wait again.
      const next = await send(hard.port, down.clients.b.good);
      expect([next.outcome, next.ms < wait]).toEqual([503, true]);
      expect(soft.logs.some((l) => l.event === "crl-missing" && l.ac === "AC TESTE DP B")).toBe(true);
    } finally {
      await Promise.all([soft.close(), hard.close()]);
    }
  });
});
