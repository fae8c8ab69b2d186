import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runConfig } from "../../src/cli/config.js";
import { configJsonSchema } from "../../src/config/json-schema.js";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { testPki } from "../helpers/edge.js";

const dir = mkdtempSync(join(tmpdir(), "ofb-config-check-"));
let n = 0;

function writeConfig(content: unknown): string {
  const file = join(dir, `config-${++n}.json`);
  writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content, null, 2));
  return file;
}

/** Runs `ofb-edge config …` with captured output. */
async function run(argv: string[], env: Record<string, string> = {}) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await runConfig(argv, { stdout: (s) => void stdout.push(s), stderr: (s) => void stderr.push(s) }, env);
  return { code, stdout: stdout.join("\n"), stderr: stderr.join("\n") };
}

describe("ofb-edge config check --config FILE (validates the file and every file it names)", () => {
  let pki: TestPkiManifest;
  const config = (tls: Record<string, unknown> = {}) => ({
    $schema: "../schema/config.schema.json",
    listeners: [{ name: "edge", port: 8443, mode: "permissive", tls: { cert: pki.server.cert, key: pki.server.key, trustAnchors: [pki.trustAnchors], ...tls } }],
    policy: { transportRoots: [pki.ca.root.cert] },
    routes: [
      { name: "open-banking", pathPrefix: "/open-banking/", upstream: "http://127.0.0.1:8080" },
      { name: "well-known", pathPrefix: "/.well-known/", upstream: "http://127.0.0.1:8080", mtls: "optional", interactionId: "generate" },
    ],
  });

  beforeAll(async () => {
    pki = await testPki();
  });

  it("exits 0 and says what it found for a valid file whose certificate, key and trust anchors work together", async () => {
    const file = writeConfig(config());
    const r = await run(["check", "--config", file]);
    expect(r).toEqual({ code: 0, stdout: `${file}: valid (1 listener(s), 2 route(s))`, stderr: "" });
  });

  it("exits 1 naming the key when a certificate file is missing", async () => {
    const file = writeConfig(config({ cert: join(dir, "nope.pem") }));
    const r = await run(["check", "--config", file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr.split("\n")).toEqual([`${file}: invalid`, `  listeners[0].tls.cert: cannot read ${join(dir, "nope.pem")}: ENOENT`]);
  });

  it("exits 1 when the key does not belong to the certificate, without printing key material", async () => {
    const file = writeConfig(config({ key: pki.clients["participant-a"]!.key }));
    const r = await run(["check", "--config", file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/listeners\[0\]\.tls\.cert: certificate\/key unusable/);
    expect(r.stderr).not.toContain("PRIVATE KEY");
  });

  it("exits 1 naming the key when a trust-anchor file holds no certificate", async () => {
    const anchors = join(dir, "not-pem.pem");
    writeFileSync(anchors, "not a certificate\n");
    const r = await run(["check", "--config", writeConfig(config({ trustAnchors: [anchors] }))]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/listeners\[0\]\.tls\.trustAnchors/);
  });

  it("exits 1 with one line per problem for a file that fails validation", async () => {
    const file = writeConfig({ ...config(), workers: 0, extra: true });
    const r = await run(["check", "--config", file]);
    expect(r.code).toBe(1);
    const lines = r.stderr.split("\n");
    expect(lines[0]).toBe(`${file}: invalid`);
    expect(lines.slice(1).sort()).toEqual([expect.stringMatching(/^ {2}\(root\): .*"extra"/), expect.stringMatching(/^ {2}workers: /)].sort());
  });

  it("exits 1 with the line and column of a JSON syntax error", async () => {
    const r = await run(["check", "--config", writeConfig('{\n  "listeners": [\n    { "name": "edge", }\n  ]\n}\n')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\(root\): invalid JSON at line 3, column 23: /);
  });

  it("applies environment overrides before checking, and reports a bad one", async () => {
    const file = writeConfig(config());
    expect((await run(["check", "--config", file], { OFB_EDGE_LISTENER_EDGE_PORT: "9443" })).code).toBe(0);
    const r = await run(["check", "--config", file], { OFB_EDGE_LISTENER_MISSING_PORT: "9443" });
    expect(r.code).toBe(1);
    expect(r.stderr.split("\n")).toEqual([`${file} (environment): invalid`, "  OFB_EDGE_LISTENER_MISSING_PORT: no listener named 'missing'"]);
  });

  it("exits 2 without --config and for an unknown sub-command", async () => {
    expect(await run(["check"])).toMatchObject({ code: 2, stderr: expect.stringContaining("--config FILE is required") });
    expect(await run(["lint"])).toMatchObject({ code: 2, stderr: expect.stringContaining("unknown sub-command 'lint'") });
    expect(await run(["check", "--confg", "edge.json"])).toMatchObject({ code: 2, stderr: expect.stringContaining("--confg") });
  });

  it("`config schema` prints the JSON Schema the repository commits", async () => {
    const r = await run(["schema"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(configJsonSchema());
  });
});
