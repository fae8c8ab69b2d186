import { execFile, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { freePort, startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest } from "../helpers/client.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";
import { redisUrl, startRedisServer, uniquePrefix } from "../helpers/redis.js";
import { keepAliveClient } from "../helpers/tls-probe.js";

/**
 * The instant deny list (issue: operations): `ofb-edge deny add` — the real CLI — writes to a real Redis, and two
 * edges sharing it refuse the certificate, organisation or software statement within one second, on a connection
 * that was already open too. Nothing denied reaches the backend.
 */

const ROOT = resolve(import.meta.dirname, "../..");
const run = promisify(execFile);
const ACCOUNTS = "/open-banking/accounts/v2/accounts";

let pki: TestPkiManifest;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
let edges: Awaited<ReturnType<typeof startTestEdge>>[];
let configFile: string;
const clock = { offsetMs: 0 };

async function cli(...args: string[]) {
  return run(process.execPath, ["bin/ofb-edge.js", "deny", ...args, "--config", configFile], { cwd: ROOT, env: { ...process.env, REDIS_URL: redisUrl() } }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

/** Polls `probe` until it returns `want`, and returns how long that took. */
async function within(ms: number, probe: () => Promise<number>, want: number): Promise<number> {
  const start = Date.now();
  for (;;) {
    if ((await probe()) === want) return Date.now() - start;
    if (Date.now() - start > ms) throw new Error(`not ${want} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  pki = await testPki();
  const keyPrefix = uniquePrefix();
  const dir = mkdtempSync(join(tmpdir(), "ofb-edge-deny-"));
  configFile = join(dir, "edge.json");
  writeFileSync(
    configFile,
    JSON.stringify({
      listeners: [{ name: "edge", port: 0, mode: "permissive", tls: { cert: pki.server.cert, key: pki.server.key, trustAnchors: [pki.trustAnchors] } }],
      policy: { transportRoots: [pki.ca.root.cert] },
      routes: [{ name: "open-banking", pathPrefix: "/open-banking/", upstream: "http://127.0.0.1:1" }],
      denyList: { keyPrefix },
    }),
  );
  backend = await startRecordingBackend();
  edges = await Promise.all(
    [0, 1].map(() => startTestEdge({ pki, upstream: backend.url, clock: () => new Date(Date.now() + clock.offsetMs), denyList: { url: redisUrl(), keyPrefix } })),
  );
});

afterAll(async () => {
  await Promise.all(edges?.map((e) => e.close()) ?? []);
  await backend?.close();
});

const status = (edge: number, client: string) => httpsRequest({ pki, port: edges[edge]!.port, credentials: clientCredentials(pki, client), path: ACCOUNTS }).then((r) => r.status);

describe("deny list", () => {
  it("a denied thumbprint is refused by both edges within 1 s, also on a connection opened before", async () => {
    const kept = keepAliveClient(pki, edges[1]!.port, clientCredentials(pki, "participant-a"));
    try {
      const first = await kept.get(ACCOUNTS);
      expect(first.status).toBe(200);
      // The kept connection stays busy while the CLI starts (seconds on a loaded machine): idle past the edge's
      // keep-alive time-out, it would be closed and the next request would open another.
      let keeping = true;
      const busy = (async () => {
        while (keeping) {
          await kept.get(ACCOUNTS);
          await new Promise((r) => setTimeout(r, 250));
        }
      })();
      const added = await cli("add", "--thumbprint", pki.clients["participant-a"]!.thumbprint, "--reason", "key compromise reported 2026-12-06").finally(() => (keeping = false));
      await busy;
      expect(added.code).toBe(0);
      const elapsed = await within(1_000, () => kept.get(ACCOUNTS).then((r) => r.status), 401);
      expect(elapsed).toBeLessThanOrEqual(1_000);
      const again = await kept.get(ACCOUNTS);
      expect(again.localPort).toBe(first.localPort);
      expect(again.json<{ errors: { code: string }[] }>().errors[0]!.code).toBe("CERT_DENIED");
      await within(1_000, () => status(0, "participant-a"), 401);
      const before = backend.received.length;
      expect(await status(0, "participant-a")).toBe(401);
      expect(backend.received.length).toBe(before);
      expect(await status(0, "participant-b")).toBe(200);
    } finally {
      kept.close();
    }
    expect((await cli("remove", "--thumbprint", pki.clients["participant-a"]!.thumbprint)).code).toBe(0);
    await within(1_000, () => status(1, "participant-a"), 200);
  });

  it("an organisation or a software statement is denied with 403, and the reason stays out of the response", async () => {
    const b = pki.clients["participant-b"]!;
    expect((await cli("add", "--organisation", b.organisationId!.toUpperCase(), "--reason", "secret internal reason")).code).toBe(0);
    await within(1_000, () => status(0, "participant-b"), 403);
    const res = await httpsRequest({ pki, port: edges[0]!.port, credentials: clientCredentials(pki, "participant-b"), path: ACCOUNTS });
    expect(res.json<{ errors: { code: string; detail: string }[] }>().errors[0]).toMatchObject({ code: "PARTICIPANT_DENIED" });
    expect(res.body.toString()).not.toContain("secret internal reason");
    expect(await status(0, "participant-a")).toBe(200);
    expect((await cli("remove", "--organisation", b.organisationId!)).code).toBe(0);
    const a = pki.clients["participant-a"]!;
    expect((await cli("add", "--software-statement", a.softwareStatementId!, "--reason", "statement revoked")).code).toBe(0);
    await within(1_000, () => status(1, "participant-a"), 403);
    expect((await cli("remove", "--software-statement", a.softwareStatementId!)).code).toBe(0);
    await within(1_000, () => status(1, "participant-a"), 200);
  });

  it("an entry stops applying at its expiry (on the edge's clock)", async () => {
    expect((await cli("add", "--thumbprint", pki.clients["participant-c"]!.thumbprint, "--reason", "investigating", "--expires", "1h")).code).toBe(0);
    const payments = () => httpsRequest({ pki, port: edges[0]!.port, credentials: clientCredentials(pki, "participant-c"), path: "/open-banking/payments/v4/pix/payments" }).then((r) => r.status);
    await within(1_000, payments, 401);
    clock.offsetMs = 2 * 3_600_000;
    try {
      expect(await payments()).toBe(200);
    } finally {
      clock.offsetMs = 0;
    }
    const listed = await cli("list", "--json");
    const entries = JSON.parse(listed.stdout) as { kind: string; value: string; reason: string; expiresAt: string }[];
    expect(entries).toEqual([expect.objectContaining({ kind: "thumbprint", value: pki.clients["participant-c"]!.thumbprint, reason: "investigating" })]);
    expect(Date.parse(entries[0]!.expiresAt) - Date.now()).toBeGreaterThan(3_500_000);
    expect((await cli("remove", "--thumbprint", pki.clients["participant-c"]!.thumbprint)).code).toBe(0);
  });

  it("takes a thumbprint that begins with '-' (base64url: 1 in 64 do) and a reason that does, as add, list and remove", async () => {
    const dashed = `-${pki.clients["participant-a"]!.thumbprint.slice(1)}`;
    expect(await cli("add", "--thumbprint", dashed, "--reason", "-from the SOC, ticket 9")).toMatchObject({ code: 0, stdout: `denied thumbprint ${dashed}: -from the SOC, ticket 9\n` });
    const entries = JSON.parse((await cli("list", "--json")).stdout) as { kind: string; value: string; reason: string }[];
    expect(entries).toContainEqual(expect.objectContaining({ kind: "thumbprint", value: dashed, reason: "-from the SOC, ticket 9" }));
    expect(await cli("remove", "--thumbprint", dashed)).toMatchObject({ code: 0, stdout: `removed thumbprint ${dashed}\n` });
  });

  it("the CLI refuses what it cannot apply, with the rule", async () => {
    expect(await cli("add", "--thumbprint", "abc", "--reason", "x")).toMatchObject({ code: 2, stderr: expect.stringContaining("43 base64url") });
    expect(await cli("add", "--organisation", "not-a-uuid", "--reason", "x")).toMatchObject({ code: 2, stderr: expect.stringContaining("UUID") });
    expect(await cli("add", "--thumbprint", pki.clients["participant-a"]!.thumbprint)).toMatchObject({ code: 2, stderr: expect.stringContaining("--reason") });
    expect(await cli("add", "--thumbprint", pki.clients["participant-a"]!.thumbprint, "--organisation", pki.clients["participant-a"]!.organisationId!, "--reason", "x")).toMatchObject({ code: 2 });
    expect(await cli("add", "--thumbprint", pki.clients["participant-a"]!.thumbprint, "--reason", "x", "--expires", "yesterday")).toMatchObject({ code: 2, stderr: expect.stringContaining("--expires") });
    expect(await cli("remove", "--thumbprint", pki.clients["participant-b"]!.thumbprint)).toMatchObject({ code: 1, stdout: expect.stringContaining("not on the deny list") });
  });
});

describe("deny list readiness", () => {
  it("/readyz is 503 while the deny list's Redis is unreachable, and the last list read keeps applying", async () => {
    const redis = await startRedisServer();
    const keyPrefix = uniquePrefix();
    const own = await startTestEdge({ pki, upstream: backend.url, admin: { host: "127.0.0.1", port: 0 }, denyList: { url: redis.url, keyPrefix } });
    try {
      const ready = () => fetch(`http://127.0.0.1:${own.edge.adminPort}/readyz`).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
      expect((await ready()).status).toBe(200);
      await redis.kill();
      await within(3_000, () => ready().then((r) => r.status), 503);
      expect((await ready()).body.denyList).toEqual({ reason: expect.stringContaining("unreachable") });
      expect(await httpsRequest({ pki, port: own.port, credentials: clientCredentials(pki, "participant-a"), path: ACCOUNTS }).then((r) => r.status)).toBe(200);
    } finally {
      await own.close();
      await redis.kill();
    }
  });
});

describe("deny list across two edge processes", () => {
  it("two `ofb-edge serve` processes sharing one Redis both refuse within 1 s, on an open connection too", async () => {
    const keyPrefix = uniquePrefix();
    const dir = mkdtempSync(join(tmpdir(), "ofb-edge-deny-procs-"));
    const ports = [await freePort(), await freePort()];
    const files = ports.map((port, i) => {
      const file = join(dir, `edge-${i}.json`);
      writeFileSync(
        file,
        JSON.stringify({
          listeners: [{ name: "edge", host: "127.0.0.1", port, mode: "permissive", tls: { cert: pki.server.cert, key: pki.server.key, trustAnchors: [pki.trustAnchors] } }],
          policy: { transportRoots: [pki.ca.root.cert] },
          routes: [{ name: "open-banking", pathPrefix: "/open-banking/", upstream: backend.url }],
          denyList: { keyPrefix },
          revocation: { mode: "off" },
          workers: 1,
        }),
      );
      return file;
    });
    const procs = files.map((file) => spawn(process.execPath, ["bin/ofb-edge.js", "serve", "--config", file], { cwd: ROOT, env: { ...process.env, REDIS_URL: redisUrl() }, stdio: ["ignore", "ignore", "pipe"] }));
    try {
      await Promise.all(
        procs.map(
          (p) =>
            new Promise<void>((resolveStarted, reject) => {
              let out = "";
              p.stderr!.on("data", (d: Buffer) => {
                out += d.toString();
                if (out.includes("ofb-edge is listening")) resolveStarted();
              });
              p.once("exit", (code) => reject(new Error(`serve exited with ${code}`)));
            }),
        ),
      );
      const status = (i: number) => httpsRequest({ pki, port: ports[i]!, credentials: clientCredentials(pki, "participant-b"), path: ACCOUNTS }).then((r) => r.status);
      const kept = keepAliveClient(pki, ports[1]!, clientCredentials(pki, "participant-b"));
      try {
        expect((await kept.get(ACCOUNTS)).status).toBe(200);
        expect(await status(0)).toBe(200);
        const add = await run(process.execPath, ["bin/ofb-edge.js", "deny", "add", "--thumbprint", pki.clients["participant-b"]!.thumbprint, "--reason", "compromise", "--config", files[0]!], {
          cwd: ROOT,
          env: { ...process.env, REDIS_URL: redisUrl() },
        });
        expect(add.stdout).toContain("denied thumbprint");
        expect(await within(1_000, () => kept.get(ACCOUNTS).then((r) => r.status), 401)).toBeLessThanOrEqual(1_000);
        expect(await within(1_000, () => status(0), 401)).toBeLessThanOrEqual(1_000);
      } finally {
        kept.close();
      }
    } finally {
      for (const p of procs) p.kill("SIGTERM");
    }
  }, 60_000);
});
