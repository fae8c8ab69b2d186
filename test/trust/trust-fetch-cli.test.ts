import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadTrustAnchors } from "../../src/pki/anchors.js";
import type { TrustReport } from "../../src/trust/report.js";
import { BUNDLE_2026, HASH_2020, ROOT_V10_SHA256, SERVER_ONLY_2026, TRANSPORT_2026, ZIP_2020, certificateDer, zipOfBundle2026 } from "./real-fixtures.js";

/**
 * `ofb-edge trust fetch` as users run it: a separate process of bin/ofb-edge.js (built by `npm test`), with the
 * real pins and the real clock, on the real ITI certificates. What is asserted holds until root v10 and its
 * SSL ACs expire (2032-07-01); counts under other roots change as their certificates expire, so they are not.
 */
const ROOT = resolve(import.meta.dirname, "../..");
const exec = promisify(execFile);

async function trustFetch(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return exec(process.execPath, ["bin/ofb-edge.js", "trust", "fetch", ...args], { cwd: ROOT, timeout: 60_000 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

const TRANSPORT_HASHES = TRANSPORT_2026.map(([, , sha256]) => sha256).sort();

describe("ofb-edge trust fetch, spawned, on the real ICP-Brasil certificates", () => {
  let server: Server;
  let base: string;
  let dir: string;
  const requests: string[] = [];
  const zip2026 = zipOfBundle2026();
  const sha512 = createHash("sha512").update(zip2026).digest("hex");
  const routes = new Map<string, string | Uint8Array>([
    ["/files/ACcompactado.zip", zip2026],
    ["/iti/hashsha512.txt", `${sha512}  ACcompactado.zip\n`],
    ["/tampered/hashsha512.txt", `${"0".repeat(128)}  ACcompactado.zip\n`],
  ]);

  const out = (name: string) => join(dir, name, "transport.pem");
  const report = async (name: string) => JSON.parse(await readFile(join(dir, name, "transport.report.json"), "utf8")) as TrustReport;
  const bundleHashes = async (name: string) => loadTrustAnchors([{ source: name, text: await readFile(out(name), "utf8") }]).certs.map((c) => c.sha256).sort();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ofb-trust-cli-"));
    server = createServer((req, res) => {
      requests.push(req.url ?? "");
      // gov.br moves files around: the zip's published URL answers with a redirect (RFC 9110 §15.4.3).
      if (req.url === "/iti/ACcompactado.zip" || req.url === "/tampered/ACcompactado.zip") return void res.writeHead(302, { location: "/files/ACcompactado.zip" }).end();
      const body = routes.get(req.url ?? "");
      if (body === undefined) res.writeHead(404).end();
      else res.writeHead(200, { "content-type": "application/octet-stream" }).end(body);
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((done) => server.close(() => done()));
    await rm(dir, { recursive: true, force: true });
  });

  it("downloads the zip through a redirect, checks its SHA-512 and writes root v10 with its clientAuth ACs", async () => {
    const r = await trustFetch("--bundle-url", `${base}/iti/ACcompactado.zip`, "--sha512-url", `${base}/iti/hashsha512.txt`, "--out", out("http"));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(requests).toEqual(expect.arrayContaining(["/iti/hashsha512.txt", "/iti/ACcompactado.zip", "/files/ACcompactado.zip"]));
    expect(r.stdout).toContain(`source ${base}/iti/ACcompactado.zip: SHA-512 matches ${base}/iti/hashsha512.txt\n`);
    expect(r.stdout).toMatch(/^skipped ICP-Brasilv7\.crt: pinned root v7: public key 1\.3\.6\.1\.4\.1\.44588\.2\.1 cannot be decoded .*\[KEY_UNDECODABLE\]/m);
    expect(r.stdout).toMatch(/^not transport AC-CERTISIGN-ICP-BRASIL-SSL-G2\.crt: extendedKeyUsage \[1\.3\.6\.1\.5\.5\.7\.3\.1\] lacks clientAuth/m);
    expect(r.stdout).toContain(`wrote ${out("http")}: 1 root(s) + 7 AC(s); report ${join(dir, "http", "transport.report.json")}`);
    expect(await bundleHashes("http")).toEqual(TRANSPORT_HASHES);

    const written = await report("http");
    expect(written.source).toEqual({ kind: "iti-zip", url: `${base}/iti/ACcompactado.zip`, sha512Url: `${base}/iti/hashsha512.txt`, sha512 });
    expect(written.kept.map((k) => [k.entry, k.sha256, k.role])).toEqual(TRANSPORT_2026.map(([entry, , sha256], i) => [entry, sha256, i === 0 ? "root v10" : "AC under root v10 (depth 1)"]));
    expect(written.excluded.filter((e) => e.code === "EKU_WITHOUT_CLIENT_AUTH").map((e) => [e.entry, e.sha256])).toEqual(SERVER_ONLY_2026);
    expect(written.pinnedRoots.filter((p) => ["v7", "v10"].includes(p.name))).toEqual([
      { name: "v7", sha256: "5657e70580eb678983f3ed7dfce091d84cae6549389a47fccda8d0e4dc2cf576", found: false },
      { name: "v10", sha256: ROOT_V10_SHA256, found: true },
    ]);
  });

  it("refuses a zip whose SHA-512 is not the published one: exit 1, nothing written", async () => {
    const r = await trustFetch("--bundle-url", `${base}/tampered/ACcompactado.zip`, "--sha512-url", `${base}/tampered/hashsha512.txt`, "--out", out("tampered"));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^ofb-edge trust fetch: SHA-512 of http:\/\/127\.0\.0\.1:\d+\/tampered\/ACcompactado\.zip is [0-9a-f]{128}, but .*gives 0{128}: the zip is corrupt or tampered with \[HASH_MISMATCH\]; nothing written/);
    expect(existsSync(join(dir, "tampered"))).toBe(false);
  });

  it("--from the real ITI zip of 2020-01-09 with its hashsha512.txt: checked, root v10 alone, retired roots reported", async () => {
    const r = await trustFetch("--from", ZIP_2020, "--sha512", HASH_2020, "--out", out("zip2020"));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`source ${ZIP_2020}: SHA-512 matches ${HASH_2020}\n`);
    expect(r.stdout).toMatch(/^retired ICP-Brasil\.crt: root v1 \(reported, never trusted\) sha256=cbd8ed38/m);
    expect(r.stdout).toMatch(/^retired ICP-Brasilv2\.crt: root v2 \(reported, never trusted\) sha256=fb47d92a/m);
    expect(await bundleHashes("zip2020")).toEqual([ROOT_V10_SHA256]);
    const written = await report("zip2020");
    expect(written.source).toEqual({
      kind: "local-zip",
      path: ZIP_2020,
      sha512: "b3ac8fe1e83a733024adabbe75200cad711446a1d1e575fa2b44d56442c8819325157f3edf30cfab4c8a6643bd7a1146ce89a606aa0db46a1d48ad72deb1a5b4",
      checkedAgainst: HASH_2020,
    });
    expect(written.retired.map((x) => [x.entry, x.root])).toEqual([["ICP-Brasil.crt", "v1"], ["ICP-Brasilv2.crt", "v2"]]);
    expect(written.excluded.filter((e) => e.code === "EKU_WITHOUT_CLIENT_AUTH").map((e) => e.entry)).toEqual(["AC-SERPRO-SSL-v10.crt"]);
    expect(await readFile(out("zip2020"), "utf8")).toMatch(/^# ofb-edge trust bundle \(mTLS transport\)\. Source: .*ACcompactado\.zip \(SHA-512 b3ac8fe1[0-9a-f]{120}, checked against .*hashsha512\.txt\)/);
  });

  it("--from a local zip without --sha512 reports the hash as not checked", async () => {
    const zipFile = join(dir, "ACcompactado.zip");
    await writeFile(zipFile, zip2026);
    const r = await trustFetch("--from", zipFile, "--out", out("zip2026"));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`source ${zipFile}: SHA-512 ${sha512} NOT CHECKED (give --sha512 FILE|HEX to check it)\n`);
    expect(await bundleHashes("zip2026")).toEqual(TRANSPORT_HASHES);
    expect((await report("zip2026")).source).toEqual({ kind: "local-zip", path: zipFile, sha512, checkedAgainst: null });
  });

  it("--from a folder of certificate files reads .crt/.cer/.pem/.der files only, not recursively", async () => {
    const folder = join(dir, "certs");
    await mkdir(join(folder, "older"), { recursive: true });
    for (const name of await readdir(BUNDLE_2026)) await copyFile(join(BUNDLE_2026, name), join(folder, name));
    // The same root v10 as DER under another extension, a note and a sub-folder: each reported, none kept twice.
    await writeFile(join(folder, "raiz-v10.der"), certificateDer(join(BUNDLE_2026, "ICP-Brasilv10.crt")));
    await writeFile(join(folder, "LEIAME.txt"), "baixado de acraiz.icpbrasil.gov.br\n");
    await copyFile(join(BUNDLE_2026, "AC-SOLUTI-SSL-EV-G4.crt"), join(folder, "older", "AC-SOLUTI-SSL-EV-G4.crt"));
    const r = await trustFetch("--from", folder, "--out", out("folder"));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`source folder ${folder}: 174 certificate file(s)\n`);
    expect(r.stdout).toContain("skipped LEIAME.txt: not a .crt, .cer, .pem or .der file [NOT_CERTIFICATE_FILE]");
    expect(r.stdout).toContain("skipped older: not a regular file (folders are not read recursively) [NOT_A_FILE]");
    expect(await bundleHashes("folder")).toEqual(TRANSPORT_HASHES);
    const written = await report("folder");
    expect(written.source).toEqual({ kind: "local-folder", path: folder, files: 174 });
    expect(written.skipped.find((s) => s.entry === "raiz-v10.der")).toMatchObject({ code: "DUPLICATE", sha256: ROOT_V10_SHA256 });
  });

  it("--from one PEM file holding every certificate (BOM, CRLF)", async () => {
    const names = (await readdir(BUNDLE_2026)).sort();
    const pems = await Promise.all(names.map(async (name) => (await readFile(join(BUNDLE_2026, name), "latin1")).replace(/\r?\n/g, "\r\n")));
    const file = join(dir, "icp-brasil.pem");
    await writeFile(file, `\ufeff${pems.join("")}`);
    const r = await trustFetch("--from", file, "--out", out("pem"));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`source ${file}\n`);
    expect(await bundleHashes("pem")).toEqual(TRANSPORT_HASHES);
    const written = await report("pem");
    expect(written.source).toEqual({ kind: "local-file", path: file });
    const v10 = names.indexOf("ICP-Brasilv10.crt") + 1;
    expect(written.kept[0]).toMatchObject({ entry: `icp-brasil.pem#${v10}`, sha256: ROOT_V10_SHA256 });
  });

  it("a usage error exits 2 with the usage; --help shows --from", async () => {
    const r = await trustFetch("--from", BUNDLE_2026, "--bundle-url", `${base}/iti/ACcompactado.zip`);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ofb-edge trust fetch: --from reads a local source; --bundle-url does not apply\n\nUsage: ofb-edge trust fetch/);
    const help = await trustFetch("--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--from FILE\|DIR +no download \(air-gapped hosts\)/);
  });
});
