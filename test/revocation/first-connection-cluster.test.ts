import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest } from "../helpers/client.js";
import { testPki } from "../helpers/edge.js";
import { spawnEdge, type SpawnedEdge } from "../helpers/serve-process.js";
import { startCrlServer, type CrlServer } from "./crl-server.js";
import { createDpPki, type DpClient, type DpPki } from "./dp-pki.js";
import { HOUR, signCrl } from "./fixtures.js";

/**
 * `ofb-edge serve` with `workers: 2` in hard-fail: each worker learns each AC's CRL location from the first
 * certificate it sees, so each one's first connection is a first connection after start. Each must refuse the
 * revoked client and accept the good one (the CRL server answers 300 ms late, so neither can be decided before
 * the CRL is in). The real CLI from the compiled dist/ (`npm test` builds it first).
 */

const DELAY_MS = 300;

let pki: TestPkiManifest;
let dir: string;
let crls: CrlServer;
let dp: DpPki;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
let edge: SpawnedEdge;
let port: number;
const logLines = () => edge.logs();

beforeAll(async () => {
  [pki, crls, backend, dir] = await Promise.all([testPki(), startCrlServer(), startRecordingBackend(), mkdtemp(join(tmpdir(), "ofb-edge-first-cluster-"))]);
  dp = await createDpPki(dir, (n) => crls.url(`/${n}.crl`));
  const now = Date.now();
  const dates = { thisUpdate: new Date(now - 60_000), nextUpdate: new Date(now + HOUR) };
  crls.serve("/root.crl", { body: await signCrl(dp.root, dates), delayMs: DELAY_MS });
  crls.serve("/a.crl", { body: await signCrl(dp.acs.a, { ...dates, revoked: [{ serial: dp.clients.a.revoked.serial }] }), delayMs: DELAY_MS });
  crls.serve("/b.crl", { body: await signCrl(dp.acs.b, { ...dates, revoked: [{ serial: dp.clients.b.revoked.serial }] }), delayMs: DELAY_MS });
  edge = await spawnEdge({
    listeners: [{ name: "mtls", host: "127.0.0.1", port: 0, mode: "permissive", tls: { cert: pki.server.cert, key: pki.server.key, trustAnchors: [dp.anchors] } }],
    routes: [{ name: "open-banking", pathPrefix: "/open-banking/", upstream: backend.url }],
    policy: { transportRoots: [dp.anchors] },
    revocation: { onStale: "hard-fail" },
    workers: 2,
    log: { level: "info" },
  });
  port = edge.port;
});

afterAll(async () => {
  await edge?.stop();
  await edge?.cleanup();
  await crls?.close();
  await backend?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** One request on a new connection; which worker served it, from its access line (matched by interaction id). */
async function send(client: DpClient): Promise<{ status: number; code: string | undefined; worker: unknown; ms: number }> {
  const id = randomUUID();
  const t0 = performance.now();
  const res = await httpsRequest({ pki, port, credentials: { cert: readFileSync(client.chainFile), key: readFileSync(client.keyFile) }, headers: { "x-fapi-interaction-id": id } });
  const ms = performance.now() - t0;
  const access = await vi.waitFor(() => {
    const line = logLines().find((l) => l.kind === "access" && l.interactionId === id);
    if (!line) throw new Error(`no access line for ${id}`);
    return line;
  });
  return { status: res.status, code: res.status === 200 ? undefined : res.json<{ errors: { code: string }[] }>().errors[0]!.code, worker: access.worker, ms };
}

/** First connections of `client` until both workers have served one (round robin hands them out in turn). */
async function untilBothWorkers(client: DpClient) {
  const results: Awaited<ReturnType<typeof send>>[] = [];
  for (let i = 0; i < 10 && new Set(results.map((r) => r.worker)).size < 2; i++) results.push(await send(client));
  return results;
}

describe("ofb-edge serve, workers: 2, hard-fail", () => {
  it("each worker refuses the revoked client on its first connection for that AC, and accepts the good one on its first for another", async () => {
    const before = backend.received.length;
    const revoked = await untilBothWorkers(dp.clients.a.revoked);
    expect(new Set(revoked.map((r) => r.worker)).size).toBe(2);
    expect(revoked.map((r) => [r.status, r.code])).toEqual(revoked.map(() => [401, "CERT_REVOKED"]));
    expect(backend.received.length).toBe(before);
    const good = await untilBothWorkers(dp.clients.b.good);
    expect(new Set(good.map((r) => r.worker)).size).toBe(2);
    expect(good.map((r) => r.status)).toEqual(good.map(() => 200));
    expect(backend.received.length).toBe(before + good.length);
    // Each worker's first connection for an AC waited for that AC's CRL; each worker fetched each CRL once.
    expect(revoked[0]!.ms).toBeGreaterThanOrEqual(DELAY_MS - 20);
    expect(good[0]!.ms).toBeGreaterThanOrEqual(DELAY_MS - 20);
    expect([crls.hits("/a.crl"), crls.hits("/b.crl"), crls.hits("/root.crl")]).toEqual([2, 2, 2]);
    expect(logLines().some((l) => l.event === "crl-missing" || l.code === "CERT_REVOCATION_UNAVAILABLE")).toBe(false);
  });
});
