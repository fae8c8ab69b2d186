import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { connect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { ConfigError } from "../../src/errors.js";
import { createLogger } from "../../src/log/logger.js";
import { createMetrics } from "../../src/metrics/registry.js";
import { issueServerCertificate, loadTestCa, type TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startEdge, type RunningEdge } from "../../src/server.js";
import { freePort, startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest } from "../helpers/client.js";
import { clientCredentials, testPki } from "../helpers/edge.js";

/**
 * Hot reload without dropping connections (issue: operations): a new server certificate, trust anchors, profiles
 * and routes take effect on `reload` (SIGHUP or a file change in `ofb-edge serve`) while clients keep sending —
 * with zero failed requests; an invalid file or a restart-only change is refused and the running configuration
 * stays. SIGTERM drains requests in flight.
 */

const ROOT = resolve(import.meta.dirname, "../..");
let pki: TestPkiManifest;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
let dir: string;
let newChain: string;
let newKey: string;

function serverCn(port: number): Promise<string> {
  return new Promise((res, rej) => {
    const s = connect({ host: "127.0.0.1", port, servername: "localhost", ca: readFileSync(pki.trustAnchors) }, () => {
      const cn = s.getPeerCertificate().subject.CN;
      s.destroy();
      res(Array.isArray(cn) ? cn.join() : String(cn));
    });
    s.on("error", rej);
  });
}

beforeAll(async () => {
  pki = await testPki();
  backend = await startRecordingBackend();
  dir = mkdtempSync(join(tmpdir(), "ofb-edge-reload-"));
  const ac = await loadTestCa(pki.ca.sslAc);
  const issued = await issueServerCertificate(ac, { subject: [{ "2.5.4.3": ["reloaded.localhost"] }] });
  newChain = `${issued.pem.trimEnd()}\n${readFileSync(pki.ca.sslAc.cert, "utf8")}`;
  newKey = issued.keyPem;
});

afterAll(async () => {
  await backend?.close();
});

function rawConfig(profiles: string[], extra: Record<string, unknown> = {}) {
  return {
    listeners: [{ name: "edge", host: "127.0.0.1", port: 0, mode: "permissive", tls: { cert: join(dir, "server.pem"), key: join(dir, "server-key.pem"), trustAnchors: [pki.trustAnchors] } }],
    routes: [{ name: "open-banking", pathPrefix: "/open-banking/", upstream: backend.url, profiles }],
    policy: { transportRoots: [pki.ca.root.cert] },
    workers: 1,
    ...extra,
  };
}

describe("reload in process", () => {
  let edge: RunningEdge;
  let port: number;

  beforeAll(async () => {
    copyFileSync(pki.server.cert, join(dir, "server.pem"));
    copyFileSync(pki.server.key, join(dir, "server-key.pem"));
    edge = await startEdge(parseConfig(rawConfig(["rfc9440"]), { file: "reload.json", baseDir: dir }), {
      logger: createLogger({ level: "silent" }),
      metrics: createMetrics(),
      clock: () => new Date(),
      configFile: "reload.json",
    });
    port = edge.listeners[0]!.port;
  });

  afterAll(async () => {
    await edge?.close();
  });

  it("certificate, profiles and routes change under load with zero failed requests", async () => {
    let stop = false;
    const failures: string[] = [];
    let done = 0;
    const client = async () => {
      while (!stop) {
        try {
          const res = await httpsRequest({ pki, port, credentials: clientCredentials(pki, "participant-a") });
          if (res.status !== 200) failures.push(`status ${res.status}`);
          done++;
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    };
    const clients = Array.from({ length: 4 }, client);
    const originalCert = readFileSync(pki.server.cert, "utf8");
    const originalKey = readFileSync(pki.server.key, "utf8");
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 250));
      const next = i % 2 === 0;
      writeFileSync(join(dir, "server.pem"), next ? newChain : originalCert);
      writeFileSync(join(dir, "server-key.pem"), next ? newKey : originalKey);
      await edge.reload(parseConfig(rawConfig(next ? ["nginx-ingress"] : ["rfc9440"]), { file: "reload.json", baseDir: dir }));
    }
    await new Promise((r) => setTimeout(r, 250));
    stop = true;
    await Promise.all(clients);
    expect(failures).toEqual([]);
    expect(done).toBeGreaterThan(20);
    // The last reload (i = 5) went back to the original certificate and rfc9440; one before it used the new ones.
    expect(await serverCn(port)).toBe("localhost");
    const seen = backend.received.map((r) => (r.headers["ssl-client-cert"] ? "nginx-ingress" : r.headers["client-cert"] ? "rfc9440" : "none"));
    expect(new Set(seen)).toEqual(new Set(["rfc9440", "nginx-ingress"]));
  });

  it("the new server certificate is the one served after a reload", async () => {
    writeFileSync(join(dir, "server.pem"), newChain);
    writeFileSync(join(dir, "server-key.pem"), newKey);
    await edge.reload(parseConfig(rawConfig(["rfc9440"]), { file: "reload.json", baseDir: dir }));
    expect(await serverCn(port)).toBe("reloaded.localhost");
  });

  it("an invalid new file is refused with its key named, and the running configuration keeps serving", async () => {
    writeFileSync(join(dir, "server-key.pem"), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    const err = await edge.reload(parseConfig(rawConfig(["nginx-ingress"]), { file: "reload.json", baseDir: dir })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues[0]!.path).toMatch(/^listeners\[0\]\.tls\.(cert|key)$/);
    expect(await serverCn(port)).toBe("reloaded.localhost");
    const res = await httpsRequest({ pki, port, credentials: clientCredentials(pki, "participant-a") });
    expect(res.status).toBe(200);
    expect(backend.received.at(-1)!.headers["client-cert"]).toBeDefined();
  });

  it("a change that needs a restart (another port, a directory section) is refused naming the key", async () => {
    writeFileSync(join(dir, "server-key.pem"), newKey);
    const raw = rawConfig(["rfc9440"], { directory: { participantsUrl: "http://127.0.0.1:1/participants", requireRegisteredCertificate: false } });
    const err = await edge.reload(parseConfig(raw, { file: "reload.json", baseDir: dir })).catch((e: unknown) => e);
    expect((err as ConfigError).issues).toEqual([{ path: "directory", message: expect.stringContaining("restart") }]);
  });

  it("another way of reaching Redis (a `redis` section) is refused naming the key: its connections outlive a reload", async () => {
    const raw = rawConfig(["rfc9440"], { redis: { mode: "cluster", nodes: [{ host: "127.0.0.1", port: 1 }] } });
    const err = await edge.reload(parseConfig(raw, { file: "reload.json", baseDir: dir })).catch((e: unknown) => e);
    expect((err as ConfigError).issues).toEqual([{ path: "redis", message: expect.stringContaining("restart") }]);
  });
});

describe("ofb-edge serve: file change, SIGHUP and SIGTERM", () => {
  let cli: ChildProcess;
  let out = "";
  let port: number;
  let slowPort: number;
  let slow: ReturnType<typeof createServer>;
  const profileFile = () => join(dir, "bank.json");
  const configFile = () => join(dir, "edge.json");
  const logs = () => out.split("\n").flatMap((l) => {
    try {
      return [JSON.parse(l) as Record<string, unknown>];
    } catch {
      return [];
    }
  });

  beforeAll(async () => {
    copyFileSync(pki.server.cert, join(dir, "server.pem"));
    copyFileSync(pki.server.key, join(dir, "server-key.pem"));
    slow = createServer((_req, res) => setTimeout(() => res.end("slow"), 1_500));
    await new Promise<void>((r) => slow.listen(0, "127.0.0.1", r));
    slowPort = (slow.address() as AddressInfo).port;
    port = await freePort();
    writeFileSync(profileFile(), JSON.stringify({ name: "bank", description: "d", headers: [{ name: "x-bank-org", source: "organisation-id" }] }));
    const raw = rawConfig(["bank"], { headerProfiles: { files: [profileFile()] } });
    raw.listeners[0]!.port = port;
    raw.routes.push({ name: "slow", pathPrefix: "/slow/", upstream: `http://127.0.0.1:${slowPort}`, profiles: [] } as never);
    writeFileSync(configFile(), JSON.stringify(raw));
    cli = spawn(process.execPath, ["bin/ofb-edge.js", "serve", "--config", configFile()], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    cli.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    cli.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    await vi.waitFor(() => expect(out).toContain("ofb-edge is listening"), { timeout: 20_000 });
  }, 30_000);

  afterAll(async () => {
    if (cli?.exitCode === null) cli.kill("SIGKILL");
    await new Promise<void>((r) => slow?.close(() => r()));
  });

  const orgHeader = async () => {
    await httpsRequest({ pki, port, credentials: clientCredentials(pki, "participant-a") });
    return backend.received.at(-1)!.headers;
  };

  it("a changed profile file is picked up without a restart", async () => {
    expect((await orgHeader())["x-bank-org"]).toBe(pki.clients["participant-a"]!.organisationId);
    writeFileSync(profileFile(), JSON.stringify({ name: "bank", description: "d", headers: [{ name: "x-bank-cnpj", source: "cnpj" }] }));
    await vi.waitFor(() => expect(logs().some((l) => l.event === "reloaded" && l.trigger === "file change")).toBe(true), { timeout: 10_000, interval: 100 });
    const h = await orgHeader();
    expect(h["x-bank-cnpj"]).toBe(pki.clients["participant-a"]!.cnpj);
    expect(h["x-bank-org"]).toBeUndefined();
  });

  it("a profile file a reload adds is watched from then on", async () => {
    const added = join(dir, "added.json");
    writeFileSync(added, JSON.stringify({ name: "added", description: "d", headers: [{ name: "x-added-org", source: "organisation-id" }] }));
    const raw = JSON.parse(readFileSync(configFile(), "utf8")) as { headerProfiles: { files: string[] }; routes: { profiles: string[] }[] };
    raw.headerProfiles.files.push(added);
    raw.routes[0]!.profiles.push("added");
    const reloads = () => logs().filter((l) => l.event === "reloaded" && l.trigger === "file change").length;
    const before = reloads();
    writeFileSync(configFile(), JSON.stringify(raw));
    await vi.waitFor(() => expect(reloads()).toBe(before + 1), { timeout: 10_000, interval: 100 });
    expect((await orgHeader())["x-added-org"]).toBe(pki.clients["participant-a"]!.organisationId);
    // The file was not named when serve started: only the watched set re-computed after the reload sees this change.
    writeFileSync(added, JSON.stringify({ name: "added", description: "d", headers: [{ name: "x-added-cnpj", source: "cnpj" }] }));
    await vi.waitFor(() => expect(reloads()).toBe(before + 2), { timeout: 10_000, interval: 100 });
    const h = await orgHeader();
    expect(h["x-added-cnpj"]).toBe(pki.clients["participant-a"]!.cnpj);
    expect(h["x-added-org"]).toBeUndefined();
  });

  it("SIGHUP with a broken file: the reload is refused with the file and JSON path, and the edge keeps serving", async () => {
    writeFileSync(profileFile(), JSON.stringify({ name: "bank", description: "d", headers: [{ name: "x-bank-dn", source: "subject" }] }));
    cli.kill("SIGHUP");
    await vi.waitFor(() => expect(logs().some((l) => l.event === "reload-rejected" && JSON.stringify(l.issues).includes("headers[0].dnFormat"))).toBe(true), { timeout: 10_000, interval: 100 });
    expect((await orgHeader())["x-bank-cnpj"]).toBe(pki.clients["participant-a"]!.cnpj);
  });

  it("SIGTERM lets the request in flight finish, then exits 0", async () => {
    const inFlight = httpsRequest({ pki, port, path: "/slow/x", credentials: clientCredentials(pki, "participant-a") });
    await new Promise((r) => setTimeout(r, 300));
    const exited = new Promise<number | null>((r) => cli.once("exit", (code) => r(code)));
    cli.kill("SIGTERM");
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe("slow");
    expect(await exited).toBe(0);
  });
});
