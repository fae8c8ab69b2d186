import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTrust } from "../../src/cli/trust.js";
import { DEFAULT_TRUST_LIMITS, type TrustLimits } from "../../src/trust/build.js";
import type { TrustReport } from "../../src/trust/report.js";
import { BUNDLE_2026, BUNDLE_2026_AT, FIXTURES, HASH_2020, ROOT_V10_SHA256, ZIP_2020, certificateDer } from "./real-fixtures.js";

function capture() {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { io: { stdout: (s: string) => void stdout.push(s), stderr: (s: string) => void stderr.push(s) }, stdout, stderr };
}

/** `trust fetch --from` in process, with the real pins and the clock at 2026-07-01. */
async function fetchFrom(args: string[], limits: TrustLimits = DEFAULT_TRUST_LIMITS) {
  const { io, stdout, stderr } = capture();
  const code = await runTrust(["fetch", ...args], io, { now: () => BUNDLE_2026_AT, limits });
  return { code, stdout: stdout.join("\n"), stderr: stderr.join("\n") };
}

describe("ofb-edge trust fetch --from (local sources)", () => {
  let dir: string;
  const out = () => join(dir, `${Math.random().toString(36).slice(2)}.pem`);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ofb-trust-local-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads one DER certificate: the root v10 alone is a valid (if small) bundle", async () => {
    const file = join(dir, "raiz-v10.der");
    await writeFile(file, certificateDer(join(BUNDLE_2026, "ICP-Brasilv10.crt")));
    const target = out();
    const r = await fetchFrom(["--from", file, "--out", target]);
    expect(r.code).toBe(0);
    const report = JSON.parse(await readFile(target.replace(/\.pem$/, ".report.json"), "utf8")) as TrustReport;
    expect(report.source).toEqual({ kind: "local-file", path: file });
    expect(report.kept.map((k) => [k.entry, k.sha256])).toEqual([["raiz-v10.der", ROOT_V10_SHA256]]);
  });

  it.each([
    ["a wrong --sha512 value", (): string[] => ["--from", ZIP_2020, "--sha512", "ab".repeat(64)], /SHA-512 of .*ACcompactado\.zip is b3ac8fe1[0-9a-f]{120}, but --sha512 gives (ab){64}: .*\[HASH_MISMATCH\]; nothing written$/],
    ["a hash file that is not in sha512sum format", (): string[] => ["--from", ZIP_2020, "--sha512", join(BUNDLE_2026, "ICP-Brasilv10.crt")], /ICP-Brasilv10\.crt is not in sha512sum format .*\[HASH_FILE_INVALID\]; nothing written$/],
    ["a missing hash file", (): string[] => ["--from", ZIP_2020, "--sha512", join(dir, "none.txt")], /none\.txt: cannot be read \(ENOENT\) \[SOURCE_FILE_INVALID\]; nothing written$/],
    ["--sha512 with a PEM file", (): string[] => ["--from", join(BUNDLE_2026, "ICP-Brasilv10.crt"), "--sha512", HASH_2020], /ICP-Brasilv10\.crt is not a zip \(a PEM or DER certificate file\), but --sha512 checks a zip \[SOURCE_FILE_INVALID\]/],
    ["--sha512 with a folder", (): string[] => ["--from", BUNDLE_2026, "--sha512", HASH_2020], /iti-2026-06-25 is a folder, but --sha512 checks a zip \[SOURCE_FILE_INVALID\]/],
    ["a path that does not exist", (): string[] => ["--from", join(dir, "nowhere")], /nowhere: cannot be read \(ENOENT\) \[SOURCE_FILE_INVALID\]; nothing written$/],
  ])("fails with exit 1 and writes nothing on %s", async (_what, args, message) => {
    const target = out();
    const r = await fetchFrom([...args(), "--out", target]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(existsSync(target)).toBe(false);
  });

  it("accepts the SHA-512 as 128 hex digits", async () => {
    const hex = (await readFile(HASH_2020, "utf8")).slice(0, 128).toUpperCase();
    const r = await fetchFrom(["--from", ZIP_2020, "--sha512", hex, "--out", out()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`source ${ZIP_2020}: SHA-512 matches --sha512`);
  });

  it("applies the zip's limits to a folder: oversized files are skipped, too many entries or bytes fail the run", async () => {
    const folder = join(dir, "limits");
    await mkdir(folder);
    for (const name of ["ICP-Brasilv10.crt", "AC-SOLUTI-SSL-EV-G4.crt", "AC-VALID-SSL-EV.crt"]) await copyFile(join(BUNDLE_2026, name), join(folder, name));
    await writeFile(join(folder, "grande.pem"), "x".repeat(3000));
    const limits = { ...DEFAULT_TRUST_LIMITS, maxEntryBytes: 2900, maxEntries: 4, maxTotalBytes: 1_000_000 };
    const ok = await fetchFrom(["--from", folder, "--out", out()], limits);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("skipped grande.pem: 3000 bytes exceeds 2900 [TOO_LARGE]");

    const tooMany = await fetchFrom(["--from", folder, "--out", out()], { ...limits, maxEntries: 3 });
    expect(tooMany).toMatchObject({ code: 1, stderr: expect.stringMatching(/limits holds more than 3 entries \[SOURCE_FILE_INVALID\]; nothing written/) });
    const tooBig = await fetchFrom(["--from", folder, "--out", out()], { ...limits, maxTotalBytes: 4000 });
    expect(tooBig).toMatchObject({ code: 1, stderr: expect.stringMatching(/limits: its certificate files exceed 4000 bytes together \[SOURCE_FILE_INVALID\]/) });
  });

  it("bounds a certificate file and a zip by their own size limits", async () => {
    const pem = join(BUNDLE_2026, "ICP-Brasilv10.crt");
    const small = await fetchFrom(["--from", pem, "--out", out()], { ...DEFAULT_TRUST_LIMITS, maxFileBytes: 100 });
    expect(small.stderr).toMatch(/ICP-Brasilv10\.crt: \d+ bytes exceeds the certificate file limit \(100\) \[SOURCE_FILE_INVALID\]/);
    const zip = await fetchFrom(["--from", ZIP_2020, "--out", out()], { ...DEFAULT_TRUST_LIMITS, maxZipBytes: 1000 });
    expect(zip.stderr).toMatch(/ACcompactado\.zip: 303983 bytes exceeds the zip size limit \(1000\) \[SOURCE_FILE_INVALID\]/);
  });

  it("--preset sandbox on the real OFB sandbox G2 CAs: the published root is the anchor, its issuing CA is kept", async () => {
    const file = join(dir, "sandbox-cas.pem");
    const sandbox = join(FIXTURES, "ofb-sandbox");
    await writeFile(file, (await readFile(join(sandbox, "issuing-ca-g2.pem"), "latin1")) + (await readFile(join(sandbox, "root-ca-g2.pem"), "latin1")));
    const target = out();
    const { io, stdout } = capture();
    expect(await runTrust(["fetch", "--preset", "sandbox", "--sandbox-cas", file, "--out", target], io, { now: () => BUNDLE_2026_AT })).toBe(0);
    const report = JSON.parse(await readFile(target.replace(/\.pem$/, ".report.json"), "utf8")) as TrustReport;
    const root = "f8484e94f4ff7597155f2f4497a89a73fab02a4f4dd8a53e06f40c870241ffb7";
    expect(report.pinnedRoots).toEqual([{ name: "Open Finance sandbox Root CA - G2", sha256: root, found: true }]);
    expect(report.kept.map((k) => [k.entry, k.sha256])).toEqual([
      ["sandbox-cas.pem#2", root],
      ["sandbox-cas.pem#1", "446ff65914c7467f105b38dfc2d2b4fb16ac65e88005829a6c4dbd5160232207"],
    ]);
    expect(stdout.join("\n")).toMatch(/1 root\(s\) \+ 1 AC\(s\)/);
  });

  it.each([
    [["--sha512", HASH_2020], /--sha512 goes with --from \(a local zip\); a download is checked against --sha512-url/],
    [["--from", ZIP_2020, "--timeout", "5"], /--from reads a local source; --timeout does not apply/],
    [["--from", ZIP_2020, "--source", "roots-jwks"], /--from reads a local source; --source does not apply/],
    [["--from", ZIP_2020, "--sha512-url", "https://x/h.txt"], /--from reads a local source; --sha512-url does not apply/],
    [["--from", ""], /--from needs a file or folder path/],
    [["--preset", "sandbox", "--sandbox-cas", "x.pem", "--from", ZIP_2020], /--preset sandbox reads --sandbox-cas only; --from does not apply/],
  ])("usage error for %j exits 2", async (args, message) => {
    const r = await fetchFrom(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
