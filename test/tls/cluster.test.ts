import { writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { freePort, startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest } from "../helpers/client.js";
import { clientCredentials, testPki } from "../helpers/edge.js";
import { alive, spawnEdge, type SpawnedEdge } from "../helpers/serve-process.js";

// `ofb-edge serve` with `workers: 2` (node:cluster): the real CLI from the compiled dist/ (`npm test` builds it
// first), several processes sharing one listening port, stopped by SIGTERM.

let pki: TestPkiManifest;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
let edge: SpawnedEdge;
let port: number;
let workerPids: readonly number[];
let adminPort: number;
let configText: string;

const logLines = () => edge.logs();
/** Each worker logs the port it listens on (the CLI's own banner repeats the configured port, 0). */
const listeningLines = () => logLines().filter((l) => l.kind === "lifecycle" && l.msg === "listening");

beforeAll(async () => {
  pki = await testPki();
  backend = await startRecordingBackend();
  adminPort = await freePort();
  const config = {
    listeners: [{ name: "mtls", host: "127.0.0.1", port: 0, mode: "permissive", tls: { cert: pki.server.cert, key: pki.server.key, trustAnchors: [pki.trustAnchors] } }],
    policy: { transportRoots: [pki.ca.root.cert] },
    routes: [{ name: "open-banking", pathPrefix: "/open-banking/", upstream: backend.url }],
    workers: 2,
    log: { level: "info" },
    admin: { host: "127.0.0.1", port: adminPort },
  };
  configText = JSON.stringify(config);
  edge = await spawnEdge(config);
  port = edge.port;
  workerPids = edge.workers;
});

afterAll(async () => {
  await edge?.cleanup();
  await backend?.close();
});

describe("ofb-edge serve with workers: 2", () => {
  it("starts two worker processes listening on one port", () => {
    const listening = listeningLines();
    expect(new Set(listening.map((l) => l.worker)).size).toBe(2);
    expect(new Set(listening.map((l) => l.port))).toEqual(new Set([port]));
    expect(port).toBeGreaterThan(0);
    expect(workerPids).toHaveLength(2);
    expect(workerPids.every(alive)).toBe(true);
  });

  it("both workers serve requests arriving on that port, each with the full pipeline (client certificate forwarded)", async () => {
    const received = backend.received.length;
    const credentials = clientCredentials(pki, "participant-a");
    const serving = () => new Set(logLines().filter((l) => l.kind === "access" && l.status === 200).map((l) => l.worker));
    for (let i = 0; i < 20 && serving().size < 2; i++) {
      expect((await httpsRequest({ pki, port, credentials })).status).toBe(200);
      // Access lines are written asynchronously; give each a moment before deciding to send another request.
      await vi.waitFor(() => expect(logLines().filter((l) => l.kind === "access").length).toBeGreaterThan(i), { timeout: 2_000 });
    }
    expect(serving().size).toBe(2);
    const forwarded = backend.received.slice(received);
    expect(forwarded.length).toBeGreaterThanOrEqual(2);
    for (const r of forwarded) expect(r.headers["client-cert"]).toMatch(/^:[A-Za-z0-9+/=]+:$/);
  });

  it("a rejection in a worker is still a 401 that never reaches the backend", async () => {
    const received = backend.received.length;
    const res = await httpsRequest({ pki, port, credentials: clientCredentials(pki, "no-uid") });
    expect(res.status).toBe(401);
    expect(res.json<{ errors: { code: string }[] }>().errors[0]!.code).toBe("IDENTITY_SOFTWARE_STATEMENT_MISSING");
    expect(backend.received.length).toBe(received);
  });

  it("/metrics on the shared admin port aggregates both workers (prom-client AggregatorRegistry in the primary; values: metrics-two-workers.test.ts)", async () => {
    // Access lines reach stdout within the logger's 500 ms flush.
    await new Promise((r) => setTimeout(r, 700));
    const served = logLines().filter((l) => l.kind === "access" && l.status === 200).length;
    expect(served).toBeGreaterThanOrEqual(2);
    const res = await fetch(`http://127.0.0.1:${adminPort}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    const line = text.split("\n").find((l) => l.startsWith('ofb_edge_requests_total{route="open-banking",status="200"}'));
    expect(Number(line?.split(" ").pop())).toBe(served);
    expect(text).toMatch(/ofb_edge_rejections_total\{stage="identity",code="IDENTITY_SOFTWARE_STATEMENT_MISSING"\} 1/);
    expect(text).toMatch(/ofb_edge_certificate_expiry_days\{kind="server",name="mtls"\} \d+/);
  });

  it("a changed configuration file reloads every worker (the primary validates, then each worker swaps)", async () => {
    const next = JSON.parse(configText) as { routes: { profiles?: string[] }[] };
    next.routes[0]!.profiles = ["nginx-ingress"];
    await writeFile(edge.configFile, JSON.stringify(next));
    await vi.waitFor(() => expect(logLines().some((l) => l.kind === "lifecycle" && l.event === "reloaded")).toBe(true), { timeout: 10_000, interval: 100 });
    const received = backend.received.length;
    for (let i = 0; i < 6; i++) expect((await httpsRequest({ pki, port, credentials: clientCredentials(pki, "participant-a") })).status).toBe(200);
    const after = backend.received.slice(received);
    expect(after.every((r) => r.headers["ssl-client-cert"] !== undefined && r.headers["client-cert"] === undefined)).toBe(true);
  });

  it("SIGTERM stops the primary and every worker cleanly (exit code 0, port closed)", async () => {
    expect(await edge.stop()).toEqual({ code: 0, signal: null });
    for (const pid of workerPids) expect(alive(pid), `worker ${pid} still running`).toBe(false);
    await expect(httpsRequest({ pki, port, credentials: clientCredentials(pki, "participant-a") })).rejects.toMatchObject({ code: "ECONNREFUSED" });
    expect(logLines()).toContainEqual(expect.objectContaining({ kind: "lifecycle", signal: "SIGTERM" }));
  });
});
