import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { openRedisDenyList, type DenyList } from "../../src/deny/deny-list.js";
import { startMockDirectory, type MockDirectory } from "../../src/directory/mock.js";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { freePort, startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest } from "../helpers/client.js";
import { clientCredentials, testPki } from "../helpers/edge.js";
import { redisUrl, uniquePrefix } from "../helpers/redis.js";
import { spawnEdge, type SpawnedEdge } from "../helpers/serve-process.js";

/**
 * `/metrics` with `workers: 2` (`ofb-edge serve`, the cluster primary aggregating both workers' registries): every
 * value is what one process would report — an expiry is not doubled, an age not added up, the size of shared state
 * (organisations, deny list) counted once — while counters add up to exactly the traffic sent, and the series that
 * only exist per process (first-seen, process metrics) carry the worker.
 */

const DAY_MS = 86_400_000;
const COMMIT = "0123456789abcdef0123456789abcdef01234567";

let pki: TestPkiManifest;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
let mock: MockDirectory;
let deny: DenyList;
let edge: SpawnedEdge;
let adminPort: number;
let config: Record<string, unknown>;

const scrape = async () => {
  const res = await fetch(`http://127.0.0.1:${adminPort}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
};
/** The value of one series (name and labels exactly as exposed), undefined when absent. */
const value = (text: string, series: string) => {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};
/** Every series of a metric, as [labels, value]. */
const series = (text: string, name: string) =>
  text
    .split("\n")
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .map((l) => [l.slice(name.length, l.lastIndexOf(" ")), Number(l.slice(l.lastIndexOf(" ") + 1))] as const);

beforeAll(async () => {
  pki = await testPki();
  backend = await startRecordingBackend();
  mock = await startMockDirectory({ fixtureDir: pki.directory.participants.replace(/participants\.json$/, "") });
  const keyPrefix = uniquePrefix();
  deny = await openRedisDenyList({ url: redisUrl(), keyPrefix, connectTimeoutMs: 2_000, subscribe: false });
  adminPort = await freePort();
  const closed = await freePort();
  config = {
    listeners: [{ name: "mtls", host: "127.0.0.1", port: 0, mode: "permissive", tls: { cert: pki.server.cert, key: pki.server.key, trustAnchors: [pki.trustAnchors] } }],
    policy: { transportRoots: [pki.ca.root.cert] },
    routes: [
      { name: "open-banking", pathPrefix: "/open-banking/", upstream: backend.url, participant: "off" },
      // Nothing listens there: every request is a 502 UPSTREAM_UNAVAILABLE.
      { name: "broken", pathPrefix: "/broken/", upstream: `http://127.0.0.1:${closed}`, participant: "off" },
    ],
    directory: { participantsUrl: mock.participantsUrl, keystoreUrl: mock.keystoreUrl, store: { type: "memory" } },
    denyList: { url: redisUrl(), keyPrefix },
    revocation: { mode: "off" },
    workers: 2,
    log: { level: "info" },
    admin: { host: "127.0.0.1", port: adminPort },
  };
  edge = await spawnEdge(config, { env: { OFB_EDGE_COMMIT: COMMIT } });
});

afterAll(async () => {
  await edge?.cleanup();
  await deny?.close();
  await mock?.close();
  await backend?.close();
});

describe("/metrics with workers: 2 reports each value as one process would", () => {
  it("certificate expiry: the server certificate's days left, not twice them", async () => {
    const notAfter = Date.parse(new X509Certificate(readFileSync(pki.server.cert)).validTo);
    const before = Math.floor((notAfter - Date.now()) / DAY_MS);
    const days = value(await scrape(), 'ofb_edge_certificate_expiry_days{kind="server",name="mtls"}');
    const after = Math.floor((notAfter - Date.now()) / DAY_MS);
    expect(before).toBeGreaterThan(30);
    expect([before, after]).toContain(days);
  });

  it("Directory: the organisation count of the fixture, and a snapshot age no older than /readyz says", async () => {
    const organisations = (JSON.parse(readFileSync(pki.directory.participants, "utf8")) as unknown[]).length;
    expect(organisations).toBeGreaterThan(2);
    expect(value(await scrape(), "ofb_edge_directory_snapshot_organisations")).toBe(organisations);
    // Old enough that twice the age (the sum over two workers) is beyond the tolerance.
    const readyAge = async () => ((await (await fetch(`http://127.0.0.1:${adminPort}/readyz`)).json()) as { directory: { ageSeconds: number } }).directory.ageSeconds;
    await vi.waitFor(async () => expect(await readyAge()).toBeGreaterThanOrEqual(3), { timeout: 10_000, interval: 250 });
    const age = value(await scrape(), "ofb_edge_directory_snapshot_age_seconds")!;
    const ready = await readyAge();
    expect(age).toBeGreaterThanOrEqual(ready - 1.5);
    expect(age).toBeLessThanOrEqual(ready + 1.5);
  });

  it("counters add up to the traffic sent, across both workers", async () => {
    const credentials = clientCredentials(pki, "participant-a");
    for (let i = 0; i < 8; i++) expect((await httpsRequest({ pki, port: edge.port, credentials })).status).toBe(200);
    const failed = await httpsRequest({ pki, port: edge.port, credentials, path: "/broken/x" });
    expect(failed.status).toBe(502);
    expect(failed.json<{ errors: { code: string }[] }>().errors[0]!.code).toBe("UPSTREAM_UNAVAILABLE");
    await vi.waitFor(async () => {
      const text = await scrape();
      expect(value(text, 'ofb_edge_requests_total{route="open-banking",status="200"}')).toBe(8);
      expect(value(text, 'ofb_edge_requests_total{route="broken",status="502"}')).toBe(1);
      expect(value(text, 'ofb_edge_upstream_errors_total{route="broken",code="UPSTREAM_UNAVAILABLE"}')).toBe(1);
      expect(value(text, 'ofb_edge_tls_connections_total{listener="mtls",result="accepted"}')).toBe(9);
    });
    // Both workers served (each remembers participant-a as new): first-seen is per worker, never summed into one series.
    // Access lines reach stdout within the logger's flush interval.
    await vi.waitFor(() => expect(edge.logs().filter((l) => l.kind === "access")).toHaveLength(9));
    const accessWorkers = new Set(edge.logs().filter((l) => l.kind === "access").map((l) => l.worker));
    const firstSeen = series(await scrape(), "ofb_edge_identity_first_seen_total").filter(([labels]) => labels.includes('kind="organisation"'));
    expect(firstSeen.length).toBe(accessWorkers.size);
    for (const [labels, count] of firstSeen) {
      expect(labels).toMatch(/worker="\d+"/);
      expect(count).toBe(1);
    }
  });

  it("the deny list's size is the list's, not once per worker", async () => {
    const now = new Date().toISOString();
    await deny.add({ kind: "organisation", value: "11111111-1111-4111-8111-111111111111", reason: "metrics test", addedAt: now, expiresAt: null });
    await deny.add({ kind: "organisation", value: "22222222-2222-4222-8222-222222222222", reason: "metrics test", addedAt: now, expiresAt: null });
    await vi.waitFor(async () => expect(value(await scrape(), "ofb_edge_deny_list_entries")).toBe(2), { timeout: 5_000, interval: 100 });
  });

  it("build info is one series of value 1 naming the version, Node.js and the commit", async () => {
    const build = series(await scrape(), "ofb_edge_build_info");
    expect(build).toEqual([[`{version="0.1.0",node="${process.versions.node}",commit="${COMMIT}"}`, 1]]);
  });

  it("process metrics are each worker's own, labelled with it", async () => {
    const text = await scrape();
    const workers = new Set(edge.logs().filter((l) => l.msg === "listening").map((l) => String(l.worker)));
    expect(workers.size).toBe(2);
    for (const name of ["ofb_edge_process_resident_memory_bytes", "ofb_edge_process_cpu_seconds_total", "ofb_edge_nodejs_eventloop_lag_seconds", "ofb_edge_process_start_time_seconds"]) {
      const perWorker = series(text, name);
      expect(new Set(perWorker.map(([labels]) => /worker="(\d+)"/.exec(labels)?.[1])), name).toEqual(workers);
    }
    const rss = series(text, "ofb_edge_process_resident_memory_bytes").map(([, v]) => v);
    // One worker's resident memory: a few tens of MB, not a sum passed off as one process.
    for (const bytes of rss) expect(bytes).toBeLessThan(1024 * 1024 * 1024);
  });

  it("reloads are counted once (by the primary), by result", async () => {
    let text = await scrape();
    expect(value(text, 'ofb_edge_reloads_total{result="success"}')).toBe(0);
    expect(value(text, 'ofb_edge_reloads_total{result="failure"}')).toBe(0);
    const routes = (config.routes as Record<string, unknown>[]).map((r, i) => (i === 0 ? { ...r, profiles: ["nginx-ingress"] } : r));
    await writeFile(edge.configFile, JSON.stringify({ ...config, routes }));
    await vi.waitFor(() => expect(edge.logs().some((l) => l.event === "reloaded")).toBe(true), { timeout: 10_000, interval: 100 });
    await writeFile(edge.configFile, JSON.stringify({ ...config, routes: "not a list" }));
    await vi.waitFor(() => expect(edge.logs().some((l) => l.event === "reload-rejected")).toBe(true), { timeout: 10_000, interval: 100 });
    text = await scrape();
    expect(value(text, 'ofb_edge_reloads_total{result="success"}')).toBe(1);
    expect(value(text, 'ofb_edge_reloads_total{result="failure"}')).toBe(1);
  });
});
