import { spawn, type ChildProcess } from "node:child_process";
import { copyFile, mkdir, mkdtemp, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEchoBackend } from "../../src/dev/echo-backend.js";
import { startMockDirectory, type MockDirectory } from "../../src/directory/mock.js";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { freePort } from "../helpers/backend.js";
import { httpsRequest } from "../helpers/client.js";
import { clientCredentials, testPki } from "../helpers/edge.js";
import { redisUrl, uniquePrefix } from "../helpers/redis.js";

/**
 * The README's "Running the services natively" and docker-compose.yml's edge service: the real CLI serving
 * `examples/edge-redis.json` with the addresses overridden by the same environment variables the compose file
 * sets, against a real Redis, the mock directory and the echo backend.
 */

const ROOT = resolve(import.meta.dirname, "../..");

let pki: TestPkiManifest;
let mock: MockDirectory;
let echo: Awaited<ReturnType<typeof startEchoBackend>>;
let edge: ChildProcess;
let port: number;
let adminPort: number;

beforeAll(async () => {
  pki = await testPki();
  mock = await startMockDirectory({ fixtureDir: dirname(pki.directory.participants) });
  echo = await startEchoBackend();
  // The example's paths are relative to its folder (../.ofb-edge/pki): lay out the same tree around the test PKI.
  const top = await mkdtemp(join(tmpdir(), "ofb-example-"));
  await mkdir(join(top, "examples"));
  await mkdir(join(top, ".ofb-edge"));
  await symlink(dirname(pki.trustAnchors).replace(/\/ca$/, ""), join(top, ".ofb-edge", "pki"));
  await copyFile(join(ROOT, "examples/edge-redis.json"), join(top, "examples/edge-redis.json"));
  [port, adminPort] = [await freePort(), await freePort()];
  edge = spawn(process.execPath, [join(ROOT, "bin/ofb-edge.js"), "serve", "--config", join(top, "examples/edge-redis.json")], {
    cwd: top,
    env: {
      ...process.env,
      OFB_EDGE_WORKERS: "1",
      OFB_EDGE_LISTENER_EDGE_PORT: String(port),
      OFB_EDGE_ROUTE_OPEN_BANKING_UPSTREAM: echo.url,
      OFB_EDGE_ROUTE_WELL_KNOWN_UPSTREAM: echo.url,
      OFB_EDGE_DIRECTORY_PARTICIPANTS_URL: mock.participantsUrl,
      OFB_EDGE_DIRECTORY_KEYSTORE_URL: mock.keystoreUrl,
      OFB_EDGE_ADMIN_PORT: String(adminPort),
      REDIS_URL: redisUrl(),
      OFB_EDGE_DIRECTORY_KEY_PREFIX: uniquePrefix(),
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const stderr: string[] = [];
  await new Promise<void>((ready, fail) => {
    // The banner is on stderr (stdout carries the JSON log only).
    createInterface({ input: edge.stderr! }).on("line", (line) => {
      stderr.push(line);
      if (line.startsWith("ofb-edge is listening")) ready();
    });
    edge.once("exit", (code) => fail(new Error(`serve exited with ${code}: ${stderr.join("\n")}`)));
  });
}, 60_000);

afterAll(async () => {
  if (edge?.exitCode === null) {
    const exited = new Promise((r) => edge.once("exit", r));
    edge.kill("SIGTERM");
    await exited;
  }
  await mock?.close();
  await echo?.close();
});

describe("examples/edge-redis.json with the compose file's environment", () => {
  it("is ready (admin /readyz) and forwards participant-a with its directory roles", async () => {
    const ready = await fetch(`http://127.0.0.1:${adminPort}/readyz`);
    expect(ready.status).toBe(200);
    const res = await httpsRequest({ pki, port, credentials: clientCredentials(pki, "participant-a") });
    expect(res.status).toBe(200);
    const { received } = res.json<{ received: { headers: string[] } }>();
    expect(received.headers).toContain("x-ofb-roles: DADOS,PAGTO");
  });

  it("refuses a Withdrawn organisation with 403", async () => {
    const res = await httpsRequest({ pki, port, credentials: clientCredentials(pki, "participant-withdrawn") });
    expect(res.status).toBe(403);
    expect(res.json<{ errors: { code: string }[] }>().errors[0]!.code).toBe("DIRECTORY_ORG_WITHDRAWN");
  });
});
