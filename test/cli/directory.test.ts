import { readFileSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDirectory } from "../../src/cli/directory.js";
import { createKeystore } from "../../src/directory/keystore.js";
import { startMockDirectory, type MockDirectory } from "../../src/directory/mock.js";
import { createRedisStore } from "../../src/directory/redis-store.js";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { testPki } from "../helpers/edge.js";
import { redisUrl, uniquePrefix } from "../helpers/redis.js";
import { testDispatcher } from "../helpers/outbound.js";

const dispatcher = testDispatcher();

/** `ofb-edge directory sync|lookup` against the mock directory, with the memory and the Redis store. */

let pki: TestPkiManifest;
let mock: MockDirectory;
let dir: string;

beforeAll(async () => {
  pki = await testPki();
  mock = await startMockDirectory({ fixtureDir: dirname(pki.directory.participants) });
  dir = await mkdtemp(join(tmpdir(), "ofb-cli-directory-"));
});

afterAll(async () => {
  await mock.close();
});

async function configFile(store: Record<string, unknown> | undefined): Promise<string> {
  const file = join(dir, `${uniquePrefix().replace(/:/g, "")}.json`);
  const tls = { cert: pki.server.cert, key: pki.server.key, trustAnchors: [pki.trustAnchors] };
  await writeFile(
    file,
    JSON.stringify({
      listeners: [{ name: "edge", port: 0, mode: "strict", tls }],
      policy: { transportRoots: [pki.ca.root.cert] },
      routes: [{ name: "r", pathPrefix: "/", upstream: "http://127.0.0.1:1" }],
      ...(store ? { directory: { participantsUrl: mock.participantsUrl, keystoreUrl: mock.keystoreUrl, store } } : {}),
    }),
  );
  return file;
}

async function run(argv: string[]) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await runDirectory(argv, { stdout: (s) => void stdout.push(s), stderr: (s) => void stderr.push(s) }, {});
  return { code, stdout: stdout.join("\n"), stderr: stderr.join("\n") };
}

describe("ofb-edge directory sync", () => {
  it("fetches once and prints a summary: organisations, Active role claims, duration", async () => {
    const r = await run(["sync", "--config", await configFile({ type: "redis", url: redisUrl(), keyPrefix: uniquePrefix() })]);
    expect(r.code).toBe(0);
    const organisations = (JSON.parse(readFileSync(pki.directory.participants, "utf8")) as unknown[]).length;
    expect(r.stdout).toContain(`fetching ${mock.participantsUrl}`);
    expect(r.stdout).toMatch(new RegExp(`published snapshot \\S+: ${organisations} organisations; Active role claims: .*DADOS \\d+, PAGTO \\d+`));
    expect(r.stdout).toMatch(/KiB in \d+\.\d\d s into the redis store/);
  });

  it("a second sync against the same store is answered 304 and says so", async () => {
    const file = await configFile({ type: "redis", url: redisUrl(), keyPrefix: uniquePrefix() });
    expect((await run(["sync", "--config", file])).code).toBe(0);
    const second = await run(["sync", "--config", file]);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/unchanged since snapshot/);
  });

  it("usage errors exit 2; a configuration without `directory` exits 1", async () => {
    expect((await run(["sync"])).code).toBe(2);
    expect((await run(["frobnicate"])).code).toBe(2);
    expect((await run(["lookup", "--config", "x.json"])).code).toBe(2);
    const none = await run(["sync", "--config", await configFile(undefined)]);
    expect(none).toMatchObject({ code: 1, stderr: expect.stringContaining("no `directory` section") });
  });
});

describe("ofb-edge directory lookup", () => {
  const a = () => pki.clients["participant-a"]!;

  it("by organisation id, with the memory store (fetches a snapshot for the look-up)", async () => {
    const r = await run(["lookup", a().organisationId!, "--config", await configFile({ type: "memory" })]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${a().organisationId}  Active`);
    expect(r.stdout).toMatch(/roles: DADOS\(Active\) PAGTO\(Active\)/);
  });

  it("by CNPJ (punctuated) and by its 8-character root", async () => {
    const file = await configFile({ type: "memory" });
    const cnpj = a().cnpj!;
    const punctuated = `${cnpj.slice(0, 2)}.${cnpj.slice(2, 5)}.${cnpj.slice(5, 8)}/${cnpj.slice(8, 12)}-${cnpj.slice(12)}`;
    expect((await run(["lookup", punctuated, "--config", file])).stdout).toContain(a().organisationId!);
    expect((await run(["lookup", cnpj.slice(0, 8), "--config", file])).stdout).toContain(a().organisationId!);
  });

  it("by x5t#S256, once the edge has fetched the key's transport.jwks (Redis store)", async () => {
    const keyPrefix = uniquePrefix();
    const file = await configFile({ type: "redis", url: redisUrl(), keyPrefix });
    expect((await run(["sync", "--config", file])).code).toBe(0);
    const unseen = await run(["lookup", a().thumbprint, "--config", file]);
    expect(unseen).toMatchObject({ code: 1, stdout: expect.stringContaining("not seen in any transport.jwks") });
    const store = await createRedisStore({ url: redisUrl(), keyPrefix });
    try {
      const keystore = createKeystore({ baseUrl: mock.keystoreUrl, cache: store, ttlMs: 60_000, negativeTtlMs: 1_000, timeoutMs: 2_000, maxBytes: 1 << 20, dispatcher });
      expect(await keystore.keyStatus(a().organisationId!, a().softwareStatementId!, a().thumbprint)).toBe("active");
    } finally {
      await store.close();
    }
    const seen = await run(["lookup", a().thumbprint, "--config", file]);
    expect(seen.code).toBe(0);
    expect(seen.stdout).toContain(`active key of software statement ${a().softwareStatementId}`);
    expect(seen.stdout).toContain(`${a().organisationId}  Active`);
  });

  it("an unknown organisation exits 1", async () => {
    const r = await run(["lookup", "00000000-0000-5000-8000-000000000000", "--config", await configFile({ type: "memory" })]);
    expect(r).toMatchObject({ code: 1, stdout: expect.stringContaining("no organisation") });
  });
});
