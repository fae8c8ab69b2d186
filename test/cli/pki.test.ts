import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runPki } from "../../src/cli/pki.js";
import { loadTestPki } from "../../src/pki/test-pki/index.js";

function capture() {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { io: { stdout: (s: string) => void stdout.push(s), stderr: (s: string) => void stderr.push(s) }, stdout, stderr };
}

describe("ofb-edge pki init", () => {
  let out: string;
  let first: { code: number; stdout: string[] };

  beforeAll(async () => {
    out = join(await mkdtemp(join(tmpdir(), "ofb-cli-pki-")), "pki");
    const { io, stdout } = capture();
    first = { code: await runPki(["init", "--out", out], io), stdout };
  });

  it("writes the PKI to --out and prints where everything lives", async () => {
    expect(first.code).toBe(0);
    const manifest = await loadTestPki(out);
    expect(manifest.trustAnchors).toBe(join(out, "ca/trust-anchors.pem"));
    const text = first.stdout.join("\n");
    expect(text).toContain(`Test PKI written to ${out}`);
    expect(text).toContain("trust anchors  ca/trust-anchors.pem (the root; transport root: ca/root.pem), ca/transport-bundle.pem (root + ACs), ca/all-roots.pem (every root)");
    expect(text).toContain("server/cert.pem");
    for (const name of Object.keys(manifest.clients)) expect(text).toContain(`clients/${name}/chain.pem`);
    expect(first.stdout.at(-1)).toMatch(/^Hint: on the edge, tls\.trustAnchors .*ca\/trust-anchors\.pem and policy\.transportRoots .*ca\/root\.pem;/);
  });

  it("refuses to overwrite without --force", async () => {
    const before = await readFile(join(out, "manifest.json"), "utf8");
    const { io, stderr } = capture();
    expect(await runPki(["init", "--out", out], io)).toBe(1);
    expect(stderr.join("\n")).toMatch(/manifest\.json already exists \(a test PKI\); pass --force to replace it/);
    expect(await readFile(join(out, "manifest.json"), "utf8")).toBe(before);
  });

  it("--force regenerates, honours --crl-base-url and --hostname, and removes only its own folders", async () => {
    const before = await loadTestPki(out);
    await writeFile(join(out, "clients", "stale.txt"), "left over");
    await mkdir(join(out, "mine"));
    await writeFile(join(out, "mine", "notes.txt"), "keep me");
    const { io } = capture();
    const argv = ["init", "--out", out, "--force", "--crl-base-url", "http://crl.test:9000/crl", "--hostname", "edge.test", "--hostname", "api.edge.test"];
    expect(await runPki(argv, io)).toBe(0);
    const after = await loadTestPki(out);
    expect(after.clients["participant-a"]!.thumbprint).not.toBe(before.clients["participant-a"]!.thumbprint);
    expect(after.crlBaseUrl).toBe("http://crl.test:9000/crl/");
    expect(after.server.hostnames).toEqual(["localhost", "edge.test", "api.edge.test"]);
    expect(existsSync(join(out, "clients", "stale.txt"))).toBe(false);
    expect(await readFile(join(out, "mine", "notes.txt"), "utf8")).toBe("keep me");
  });

  it("rejects an unknown flag with exit code 2, naming it", async () => {
    const { io, stderr } = capture();
    expect(await runPki(["init", "--out", out, "--bogus"], io)).toBe(2);
    expect(stderr.join("\n")).toContain("'--bogus'");
    expect(stderr.join("\n")).toContain("Usage: ofb-edge pki init");
  });

  it("rejects an unknown or missing sub-command and stray positionals with exit code 2", async () => {
    const unknown = capture();
    expect(await runPki(["frobnicate"], unknown.io)).toBe(2);
    expect(unknown.stderr.join("\n")).toContain("unknown sub-command 'frobnicate'");
    const missing = capture();
    expect(await runPki([], missing.io)).toBe(2);
    expect(missing.stderr.join("\n")).toContain("missing sub-command");
    const stray = capture();
    expect(await runPki(["init", "extra"], stray.io)).toBe(2);
    expect(stray.stderr.join("\n")).toContain("extra");
  });

  it("reports an invalid --crl-base-url or --hostname without writing anything", async () => {
    const dir = join(await mkdtemp(join(tmpdir(), "ofb-cli-pki-bad-")), "pki");
    const badUrl = capture();
    expect(await runPki(["init", "--out", dir, "--crl-base-url", "ftp://x/"], badUrl.io)).toBe(1);
    expect(badUrl.stderr.join("\n")).toContain("crlBaseUrl must be an http(s) URL");
    const badHost = capture();
    expect(await runPki(["init", "--out", dir, "--hostname", "not a host"], badHost.io)).toBe(1);
    expect(badHost.stderr.join("\n")).toContain('hostname "not a host" is not a DNS name');
    expect(existsSync(dir)).toBe(false);
  });
});
