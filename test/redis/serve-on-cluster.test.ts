import { execFile } from "node:child_process";
import { dirname, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMockDirectory, type MockDirectory } from "../../src/directory/mock.js";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest } from "../helpers/client.js";
import { clientCredentials, testPki } from "../helpers/edge.js";
import { startRedisCluster, type RedisClusterUnderTest } from "../helpers/redis-cluster.js";
import { uniquePrefix, until } from "../helpers/redis.js";
import { spawnEdge, type SpawnedEdge } from "../helpers/serve-process.js";

/**
 * The real CLI on a Redis Cluster, configured by the top-level `redis` section only: `ofb-edge serve` with two
 * workers (Directory store and deny list on the cluster), `ofb-edge deny add|list` and `ofb-edge directory
 * lookup` with the same configuration file.
 */

const ROOT = resolve(import.meta.dirname, "../..");
const run = promisify(execFile);
const ACCOUNTS = "/open-banking/accounts/v2/accounts";
// A REDIS_URL in the test environment would name another Redis: with a cluster it is refused, so it is unset.
const env = { ...process.env, REDIS_URL: undefined };

let pki: TestPkiManifest;
let cluster: RedisClusterUnderTest;
let mock: MockDirectory;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
let edge: SpawnedEdge;

beforeAll(async () => {
  pki = await testPki();
  [cluster, mock, backend] = await Promise.all([startRedisCluster(), startMockDirectory({ fixtureDir: dirname(pki.directory.participants) }), startRecordingBackend()]);
  const keyPrefix = uniquePrefix();
  edge = await spawnEdge(
    {
      listeners: [{ name: "edge", host: "127.0.0.1", port: 0, mode: "permissive", tls: { cert: pki.server.cert, key: pki.server.key, trustAnchors: [pki.trustAnchors] } }],
      policy: { transportRoots: [pki.ca.root.cert] },
      routes: [{ name: "open-banking", pathPrefix: "/open-banking/", upstream: backend.url }],
      redis: cluster.target,
      directory: { participantsUrl: mock.participantsUrl, keystoreUrl: mock.keystoreUrl, store: { type: "redis", keyPrefix } },
      denyList: { keyPrefix },
      revocation: { mode: "off" },
      workers: 2,
    },
    { env },
  );
}, 60_000);

afterAll(async () => {
  await edge?.stop();
  await edge?.cleanup();
  await Promise.all([cluster?.stop(), mock?.close(), backend?.close()]);
});

async function cli(...args: string[]) {
  return run(process.execPath, ["bin/ofb-edge.js", ...args, "--config", edge.configFile], { cwd: ROOT, env }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

describe("ofb-edge on a Redis Cluster", () => {
  it("serves from the snapshot in the cluster, and a deny added by the CLI is applied by both workers within a second", async () => {
    const status = () => httpsRequest({ pki, port: edge.port, credentials: clientCredentials(pki, "participant-a"), path: ACCOUNTS }).then((r) => r.status);
    expect(await status()).toBe(200);
    const a = pki.clients["participant-a"]!;
    const looked = await cli("directory", "lookup", a.organisationId!);
    expect(looked).toMatchObject({ code: 0, stdout: expect.stringContaining("Active") });

    expect(await cli("deny", "add", "--thumbprint", a.thumbprint, "--reason", "cluster test")).toMatchObject({ code: 0, stdout: expect.stringContaining("denied thumbprint") });
    // New connections land on either worker: ten refusals in a row show both applied it.
    await until(1_000, "both workers refuse participant-a", async () => {
      for (let i = 0; i < 10; i++) if ((await status()) !== 401) return false;
      return true;
    });
    const before = backend.received.length;
    for (let i = 0; i < 10; i++) expect(await status()).toBe(401);
    expect(backend.received.length).toBe(before);
    const listed = await cli("deny", "list", "--json");
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ kind: "thumbprint", value: a.thumbprint, reason: "cluster test" })]);
    expect(await cli("deny", "remove", "--thumbprint", a.thumbprint)).toMatchObject({ code: 0 });
    await until(1_000, "participant-a is served again", async () => (await status()) === 200);
  });
});
