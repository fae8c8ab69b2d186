import { X509Certificate } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runConfig } from "../../src/cli/config.js";
import { loadConfigFile, parseConfig } from "../../src/config/load.js";
import { DEFAULT_TRANSPORT_ROOTS } from "../../src/config/schema.js";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest } from "../helpers/client.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";

// policy.transportRoots: the transport hierarchy, pinned whatever trust-anchor files are loaded. A listener none of
// whose anchors is a transport root would refuse every client, so it stops start-up, `config check` and a reload.

const dir = mkdtempSync(join(tmpdir(), "ofb-transport-roots-"));
let n = 0;
let pki: TestPkiManifest;

function writeConfig(content: unknown): string {
  const file = join(dir, `config-${++n}.json`);
  writeFileSync(file, JSON.stringify(content, null, 2));
  return file;
}

async function check(file: string) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await runConfig(["check", "--config", file], { stdout: (s) => void stdout.push(s), stderr: (s) => void stderr.push(s) }, {});
  return { code, stdout: stdout.join("\n"), stderr: stderr.join("\n") };
}

const config = (policy: Record<string, unknown> | undefined, trustAnchors = [pki.trustAnchors]) => ({
  listeners: [{ name: "edge", port: 8443, mode: "permissive", tls: { cert: pki.server.cert, key: pki.server.key, trustAnchors } }],
  routes: [{ name: "open-banking", pathPrefix: "/open-banking/", upstream: "http://127.0.0.1:8080" }],
  ...(policy ? { policy } : {}),
});

beforeAll(async () => {
  pki = await testPki();
});

describe("policy.transportRoots in the configuration", () => {
  it("defaults to ICP-Brasil root v10's SHA-256", () => {
    expect(DEFAULT_TRANSPORT_ROOTS).toEqual(["6e0bff069a26994c15de2c4888cc54af84882e5495b7fbf66be9ccffec7489f6"]);
    const parsed = parseConfig(config(undefined), { file: "edge.json", baseDir: dir });
    expect(parsed.policy.transportRoots).toEqual(["6e0bff069a26994c15de2c4888cc54af84882e5495b7fbf66be9ccffec7489f6"]);
  });

  it("with the default, the test PKI's listener is refused, naming both keys and the fix", async () => {
    const file = writeConfig(config(undefined));
    const r = await check(file);
    expect(r.code).toBe(1);
    const lines = r.stderr.split("\n");
    expect(lines[0]).toBe(`${file}: invalid`);
    expect(lines[1]).toMatch(/^ {2}listeners\[0\]\.tls\.trustAnchors: none of its roots \('Autoridade Certificadora Raiz Brasileira v10 TESTE' \(SHA-256 [0-9a-f]{64}\)\) is a transport root: every client would be refused CERT_HIERARCHY_NOT_TRANSPORT$/);
    expect(lines[2]).toMatch(/^ {2}policy\.transportRoots: pins 1 root\(s\) \(default: ICP-Brasil root v10\), none in listeners\[0\]\.tls\.trustAnchors: .*for a test PKI, its ca\/root\.pem/);
  });

  it("accepts the root as a PEM file, as a fingerprint with colons (Node's fingerprint256) or in plain lowercase hex", async () => {
    const fingerprint = new X509Certificate(readFileSync(pki.ca.root.cert)).fingerprint256;
    for (const entry of [pki.ca.root.cert, fingerprint, fingerprint.replace(/:/g, "").toLowerCase()]) {
      expect((await check(writeConfig(config({ transportRoots: [entry] })))).code, entry).toBe(0);
    }
  });

  it("every root loaded with the test root pinned: valid; every root loaded with only v5 pinned: refused", async () => {
    expect((await check(writeConfig(config({ transportRoots: [pki.ca.root.cert] }, [pki.anchorFiles.allRoots])))).code).toBe(0);
    const v5Only = await check(writeConfig(config({ transportRoots: [pki.ca.v5Root.cert] }, [pki.anchorFiles.root])));
    expect(v5Only.code).toBe(1);
    expect(v5Only.stderr).toContain("listeners[0].tls.trustAnchors: none of its roots");
  });

  it("a file entry resolves against the configuration's folder, like every other path", () => {
    const folder = join(dir, "relative");
    mkdirSync(join(folder, "pki"), { recursive: true });
    copyFileSync(pki.ca.root.cert, join(folder, "pki", "root.pem"));
    writeFileSync(join(folder, "edge.json"), JSON.stringify(config({ transportRoots: ["pki/root.pem"] })));
    expect(loadConfigFile(join(folder, "edge.json")).policy.transportRoots).toEqual([join(folder, "pki", "root.pem")]);
  });

  it("an entry that is neither a fingerprint nor a readable PEM file, or a file without a certificate, names the entry", async () => {
    const typo = "6e0bff069a26994c15de2c4888cc54af84882e5495b7fbf66be9ccffec7489f"; // 63 digits
    const r = await check(writeConfig(config({ transportRoots: [pki.ca.root.cert, typo] })));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`  policy.transportRoots[1]: '${join(dir, typo)}' is neither a SHA-256 fingerprint (64 hex digits, colons optional) nor a readable PEM file (ENOENT)`);
    const empty = join(dir, "empty.pem");
    writeFileSync(empty, "no certificate here\n");
    const r2 = await check(writeConfig(config({ transportRoots: [empty] })));
    expect(r2.stderr).toContain(`  policy.transportRoots[0]: ${empty}: no PEM certificate found`);
    expect(() => parseConfig(config({ transportRoots: [] }), { file: "edge.json", baseDir: dir })).toThrow(/policy\.transportRoots/);
  });
});

describe("trust-anchor files at start-up", () => {
  it("an AC whose root is in no file stops `config check`, naming the key, the file, the certificate and the fix", async () => {
    const bundle = join(dir, "orphan-ac.pem");
    writeFileSync(bundle, readFileSync(pki.ca.root.cert, "utf8") + readFileSync(pki.ca.v5Ac.cert, "utf8"));
    const r = await check(writeConfig(config({ transportRoots: [pki.ca.root.cert] }, [bundle])));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`  listeners[0].tls.trustAnchors: ${bundle}: certificate #2 'AC Secretaria da Receita Federal do Brasil v4 TESTE' is an AC whose issuer 'Autoridade Certificadora Raiz Brasileira v5 TESTE' is in none of the trust-anchor files`);
    expect(r.stderr).toContain("add its root (and any AC between) to the files, or remove the AC");
  });

  it("the root + ACs bundle and the every-root file pass `config check` with the test root pinned", async () => {
    for (const file of [pki.anchorFiles.bundle, pki.anchorFiles.allRoots]) {
      expect((await check(writeConfig(config({ transportRoots: [pki.ca.root.cert] }, [file])))).code, file).toBe(0);
    }
  });
});

describe("a running edge", () => {
  let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
  let edge: Awaited<ReturnType<typeof startTestEdge>>;

  beforeAll(async () => {
    backend = await startRecordingBackend();
    edge = await startTestEdge({ pki, upstream: backend.url });
  });
  afterAll(async () => {
    await edge?.close();
    await backend?.close();
  });

  it("refuses to start when no anchor is a transport root, before opening any port", async () => {
    await expect(startTestEdge({ pki, upstream: backend.url, policy: { transportRoots: [pki.ca.v5Root.cert] } })).rejects.toThrow(/listeners\[0\]\.tls\.trustAnchors: none of its roots/);
  });

  it("refuses a reload that would pin another hierarchy, and keeps serving with the running one", async () => {
    const next = parseConfig(
      { ...JSON.parse(JSON.stringify(edge.config)), policy: { ...edge.config.policy, transportRoots: [pki.ca.v5Root.cert] } },
      { file: "test-config", baseDir: process.cwd() },
    );
    await expect(edge.edge.reload(next)).rejects.toThrow(/policy\.transportRoots: pins 1 root\(s\)/);
    const res = await httpsRequest({ pki, port: edge.port, credentials: clientCredentials(pki, "participant-a") });
    expect(res.status).toBe(200);
  });
});
