import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMockDirectory, type MockDirectory } from "../../src/directory/mock.js";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { testPki } from "../helpers/edge.js";
import { deletePrefix, redisUrl, uniquePrefix } from "../helpers/redis.js";

/**
 * `ofb-edge directory lookup <CNPJ>`, spawned, against a Directory serving the real 2021 entry whose
 * RegistrationNumber is "13.353.236/001-89" (test/fixtures/ofb-directory/SOURCES.md): the OFB sandbox's
 * certificates carry serialNumber 1335323600189, and the root 13353236 must find the entry as well.
 */
const ROOT = resolve(import.meta.dirname, "../..");
const exec = promisify(execFile);
const SANDBOX_ORG = "b961c4eb-509d-4edf-afeb-35642b38185d";

let pki: TestPkiManifest;
let mock: MockDirectory;
let dir: string;
const prefixes: string[] = [];

beforeAll(async () => {
  pki = await testPki();
  mock = await startMockDirectory({ fixtureDir: join(ROOT, "test", "fixtures", "ofb-directory") });
  dir = await mkdtemp(join(tmpdir(), "ofb-sandbox-lookup-"));
});

afterAll(async () => {
  await mock.close();
  await rm(dir, { recursive: true, force: true });
  await Promise.all(prefixes.map((p) => deletePrefix(redisUrl(), p)));
});

async function configFile(store: Record<string, unknown>): Promise<string> {
  const file = join(dir, `${Math.random().toString(36).slice(2)}.json`);
  const tls = { cert: pki.server.cert, key: pki.server.key, trustAnchors: [pki.trustAnchors] };
  await writeFile(
    file,
    JSON.stringify({
      listeners: [{ name: "edge", port: 0, mode: "strict", tls }],
      routes: [{ name: "r", pathPrefix: "/", upstream: "http://127.0.0.1:1" }],
      directory: { participantsUrl: mock.participantsUrl, keystoreUrl: mock.keystoreUrl, store },
    }),
  );
  return file;
}

async function lookup(query: string, config: string) {
  return exec(process.execPath, ["bin/ofb-edge.js", "directory", "lookup", query, "--config", config], { cwd: ROOT, timeout: 60_000 }).then(
    (r) => ({ code: 0, stdout: r.stdout }),
    (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
  );
}

describe.each([
  ["memory", () => ({ type: "memory" })],
  [
    "redis",
    () => {
      const keyPrefix = uniquePrefix();
      prefixes.push(keyPrefix);
      return { type: "redis", url: redisUrl(), keyPrefix };
    },
  ],
])("ofb-edge directory lookup of the sandbox's 13-character registration number (%s store)", (_name, store) => {
  let config: string;
  beforeAll(async () => {
    config = await configFile(store());
  });

  it.each(["13353236", "1335323600189", "13.353.236/001-89"])("%s finds the organisation", async (query) => {
    const r = await lookup(query, config);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${SANDBOX_ORG}  Active  1335323600189  Open Banking Brasil`);
    expect(r.stdout).toContain("roles: DADOS(Active)");
  });

  it("a CNPJ of another root finds nothing (exit 1)", async () => {
    expect(await lookup("13353237", config)).toMatchObject({ code: 1, stdout: expect.stringContaining("13353237: no organisation") });
  });
});
