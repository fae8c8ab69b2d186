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
 * Which ACs a CRL source covers, at start-up and once clients arrive: the CRLs known before any client (the
 * root's, named by the ACs of a trust-anchor file holding root + ACs; `revocation.urls`) are in before the edge
 * listens; an AC whose certificates name no distribution point, with no URL or file for it, is uncovered —
 * refused and not ready in hard-fail, accepted, reported and counted in soft-fail. Reported on /readyz and in
 * metrics.
 */

const DELAY_MS = 300;
let pki: TestPkiManifest;
let dir: string;
let crls: CrlServer;
let dp: DpPki;
/** Distribution points on a host that never answers. */
let hanging: DpPki;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;

beforeAll(async () => {
  [pki, crls, backend, dir] = await Promise.all([testPki(), startCrlServer(), startRecordingBackend(), mkdtemp(join(tmpdir(), "ofb-edge-coverage-"))]);
  [dp, hanging] = await Promise.all([createDpPki(dir, (n) => crls.url(`/coverage/${n}.crl`)), mkdtemp(join(dir, "hanging-")).then((d) => createDpPki(d, (n) => crls.url(`/hanging/${n}.crl`)))]);
  const now = Date.now();
  const dates = { thisUpdate: new Date(now - 60_000), nextUpdate: new Date(now + HOUR) };
  const [root, a, b] = await Promise.all([
    signCrl(dp.root, dates),
    signCrl(dp.acs.a, { ...dates, revoked: [{ serial: dp.clients.a.revoked.serial }] }),
    signCrl(dp.acs.b, { ...dates, revoked: [{ serial: dp.clients.b.revoked.serial }] }),
  ]);
  crls.serve("/coverage/root.crl", { body: root, delayMs: DELAY_MS });
  crls.serve("/coverage/a.crl", { body: a });
  crls.serve("/mirror/b.crl", { body: b, delayMs: DELAY_MS });
});

afterAll(async () => {
  await crls?.close();
  await backend?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function startEdge(o: { revocation: ConfigInput["revocation"]; anchors?: string }) {
  const tls = { cert: pki.server.cert, key: pki.server.key, trustAnchors: [o.anchors ?? dp.anchors] };
  return startTestEdge({
    pki,
    upstream: backend.url,
    listeners: [{ name: "mtls", host: "127.0.0.1", port: 0, mode: "permissive", tls }],
    revocation: o.revocation,
    admin: { host: "127.0.0.1", port: 0 },
    policy: { transportRoots: tls.trustAnchors },
  });
}

const send = (port: number, client: DpClient) => httpsRequest({ pki, port, credentials: { cert: readFileSync(client.chainFile), key: readFileSync(client.keyFile) } });
const errorOf = (res: Awaited<ReturnType<typeof send>>) => res.json<{ errors: { code: string; detail: string }[] }>().errors[0]!;

interface Readyz {
  ready: boolean;
  revocation: { ready?: true; reason?: string; onStale: string; uncovered?: string[]; acs: { ac: string; sha256: string; coverage: string; status: string; unchecked?: number }[] };
}
async function readyz(adminPort: number): Promise<{ status: number; body: Readyz }> {
  const res = await fetch(`http://127.0.0.1:${adminPort}/readyz`);
  return { status: res.status, body: (await res.json()) as Readyz };
}
const metricsOf = async (adminPort: number) => (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
const covered = (name: keyof DpPki["info"], value: number) => `ofb_edge_revocation_ac_covered{ac="${dp.info[name].label}",sha256="${dp.info[name].sha256}"} ${value}`;

describe("at start-up", () => {
  it("fetches the root CRL the trust-anchor file's ACs name and the revocation.urls CRLs before listening; ACs whose CRL is learned from their first leaf are pending", async () => {
    const before = { root: crls.hits("/coverage/root.crl"), b: crls.hits("/mirror/b.crl") };
    const t0 = performance.now();
    const edge = await startEdge({
      anchors: dp.anchorsWithAcs,
      // The bundle holds the ACs next to the root (what `trust fetch` writes); chains still end at the root.
      revocation: { onStale: "hard-fail", urls: { [dp.info.b.sha256]: [crls.url("/mirror/b.crl")] } },
    });
    const startMs = performance.now() - t0;
    try {
      expect(startMs).toBeGreaterThanOrEqual(DELAY_MS - 20);
      expect([crls.hits("/coverage/root.crl") - before.root, crls.hits("/mirror/b.crl") - before.b]).toEqual([1, 1]);
      const byAc = (acs: readonly { sha256: string }[]) => Object.fromEntries(acs.map((a) => [a.sha256, a]));
      const state = byAc(edge.edge.revocation.state().acs);
      expect(state[dp.info.root.sha256]).toMatchObject({ coverage: "covered", status: "fresh" });
      expect(state[dp.info.b.sha256]).toMatchObject({ coverage: "covered", status: "fresh" });
      expect(state[dp.info.a.sha256]).toMatchObject({ coverage: "pending", status: "missing" });
      expect(state[dp.info.bare.sha256]).toMatchObject({ coverage: "pending", status: "missing" });
      // Pending ACs do not hold readiness back, even in hard-fail.
      const ready = await readyz(edge.edge.adminPort!);
      expect(ready.status).toBe(200);
      expect(byAc(ready.body.revocation.acs)[dp.info.a.sha256]).toEqual({ ac: "AC TESTE DP A", sha256: dp.info.a.sha256, coverage: "pending", status: "missing" });
      const metrics = await metricsOf(edge.edge.adminPort!);
      for (const line of [covered("root", 1), covered("b", 1), covered("a", -1), covered("bare", -1)]) expect(metrics).toContain(line);
      // The first leaf of AC a teaches its distribution point; AC a itself is checked against the root's CRL, held since start.
      const res = await send(edge.port, dp.clients.a.revoked);
      expect([res.status, errorOf(res).code]).toEqual([401, "CERT_REVOKED"]);
      expect(byAc(edge.edge.revocation.state().acs)[dp.info.a.sha256]).toMatchObject({ coverage: "covered", status: "fresh" });
      expect(crls.hits("/coverage/root.crl") - before.root).toBe(1);
    } finally {
      await edge.close();
    }
  });

  it("does not wait beyond firstFetchWaitMs for a CRL host that never answers; hard-fail is then not ready", async () => {
    crls.serve("/hanging/root.crl", { hang: true });
    const wait = 600;
    const t0 = performance.now();
    const edge = await startEdge({ anchors: hanging.anchorsWithAcs, revocation: { onStale: "hard-fail", firstFetchWaitMs: wait } });
    const startMs = performance.now() - t0;
    try {
      expect(startMs).toBeGreaterThanOrEqual(wait - 20);
      expect(startMs).toBeLessThan(wait + 2_000);
      const ready = await readyz(edge.edge.adminPort!);
      expect(ready.status).toBe(503);
      expect(ready.body.revocation.reason).toBe(`no usable CRL for ${hanging.info.root.label} (hard-fail)`);
    } finally {
      await edge.close();
    }
  });
});

describe("an AC without any CRL source (its certificates name no distribution point; no revocation.urls or crlFiles entry)", () => {
  it("hard-fail: its certificates are refused CERT_REVOCATION_UNAVAILABLE, /readyz is 503 naming it, metrics say uncovered", async () => {
    const edge = await startEdge({ revocation: { onStale: "hard-fail" } });
    try {
      const before = backend.received.length;
      for (let i = 0; i < 2; i++) {
        const res = await send(edge.port, dp.clients.bare.good);
        expect([res.status, errorOf(res).code]).toEqual([503, "CERT_REVOCATION_UNAVAILABLE"]);
        expect(errorOf(res).detail).toContain("no CRL source for 'AC TESTE DP BARE'");
      }
      expect(backend.received.length).toBe(before);
      expect(edge.logs.find((l) => l.kind === "access" && l.code === "CERT_REVOCATION_UNAVAILABLE")).toMatchObject({
        certIndex: 0,
        reason: "revocation status unknown (no CRL source for the AC, or its CRL unavailable or stale)",
      });
      const ready = await readyz(edge.edge.adminPort!);
      expect(ready.status).toBe(503);
      expect(ready.body.revocation).toMatchObject({ reason: "no CRL source for AC TESTE DP BARE (hard-fail: their certificates are refused)", uncovered: ["AC TESTE DP BARE"] });
      expect(ready.body.revocation.acs).toEqual(
        expect.arrayContaining([
          { ac: "AC TESTE DP BARE", sha256: dp.info.bare.sha256, coverage: "uncovered", status: "missing" },
          { ac: dp.info.root.label, sha256: dp.info.root.sha256, coverage: "covered", status: "fresh" },
        ]),
      );
      const metrics = await metricsOf(edge.edge.adminPort!);
      expect(metrics).toContain(covered("bare", 0));
      expect(metrics).toContain(covered("root", 1));
      expect(metrics).toContain(`ofb_edge_revocation_ac_crl_status{ac="AC TESTE DP BARE",sha256="${dp.info.bare.sha256}",status="missing"} 1`);
      expect(metrics).not.toContain("ofb_edge_revocation_unchecked_total{");
      expect(edge.logs.filter((l) => l.event === "revocation-uncovered")).toEqual([expect.objectContaining({ ac: "AC TESTE DP BARE", onStale: "hard-fail" })]);
      // Another AC of the same edge, covered by its certificates' distribution point, is not affected.
      expect((await send(edge.port, dp.clients.a.good)).status).toBe(200);
    } finally {
      await edge.close();
    }
  });

  it("soft-fail: its certificates are accepted, the AC is logged once and counted, and /readyz stays ready but reports it", async () => {
    const edge = await startEdge({ revocation: { onStale: "soft-fail" } });
    try {
      const before = backend.received.length;
      for (let i = 0; i < 2; i++) expect((await send(edge.port, dp.clients.bare.good)).status).toBe(200);
      expect(backend.received.length).toBe(before + 2);
      const ready = await readyz(edge.edge.adminPort!);
      expect(ready.status).toBe(200);
      expect(ready.body.revocation).toMatchObject({ ready: true, onStale: "soft-fail", uncovered: ["AC TESTE DP BARE"] });
      expect(ready.body.revocation.acs).toContainEqual({ ac: "AC TESTE DP BARE", sha256: dp.info.bare.sha256, coverage: "uncovered", status: "missing", unchecked: 2 });
      const metrics = await metricsOf(edge.edge.adminPort!);
      expect(metrics).toContain(covered("bare", 0));
      expect(metrics).toContain(`ofb_edge_revocation_unchecked_total{ac="AC TESTE DP BARE",sha256="${dp.info.bare.sha256}"} 2`);
      expect(edge.logs.filter((l) => l.event === "revocation-uncovered")).toEqual([expect.objectContaining({ ac: "AC TESTE DP BARE", onStale: "soft-fail" })]);
    } finally {
      await edge.close();
    }
  });
});
