import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { zipSync, type Zippable } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTrust } from "../../src/cli/trust.js";
import { loadTrustAnchors } from "../../src/pki/anchors.js";
import { addDays, caName, createTestCa, issueServerCertificate, type TestCa } from "../../src/pki/test-pki/index.js";
import { sha256Hex } from "../../src/pki/thumbprint.js";
import type { PinSet } from "../../src/pki/icp-brasil-roots.js";
import type { TrustReport } from "../../src/trust/report.js";
import { ed448Root, explicitCurveRoot, unknownKeyRoot } from "./crafted.js";

const SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

function capture() {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { io: { stdout: (s: string) => void stdout.push(s), stderr: (s: string) => void stderr.push(s) }, stdout, stderr };
}

const pem = (der: Uint8Array) => `-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString("base64").replace(/.{64}/g, "$&\n")}\n-----END CERTIFICATE-----\n`;
const sha512sum = (zip: Uint8Array, name = "ACcompactado.zip") => `${createHash("sha512").update(zip).digest("hex")}  ${name}\n`;

/** The fake ICP-Brasil: pinned roots v5, v6 (Ed448), v7 (undecodable key), v10; retired v2; and what hangs below them. */
async function fakeIcpBrasil() {
  const now = new Date();
  const root = (commonName: string) => createTestCa({ subject: caName({ organization: "ICP-Brasil TESTE", commonName }), now });
  const ac = (issuer: TestCa, commonName: string, extra: Partial<Parameters<typeof createTestCa>[0]> = {}) =>
    createTestCa({ subject: caName({ organization: "ICP-Brasil TESTE", commonName }), issuer, now, ...extra });
  const [v10, v5, v2, unpinned] = await Promise.all([root("Raiz v10 TESTE"), root("Raiz v5 TESTE"), root("Raiz v2 TESTE"), root("Outra Raiz TESTE")]);
  const [clientAc, serverOnlyAc, noEkuAc, expiredAc, v5Ac, unpinnedAc] = await Promise.all([
    ac(v10, "AC SSL EV G4 TESTE", { extendedKeyUsage: [SERVER_AUTH, CLIENT_AUTH] }),
    ac(v10, "AC SSL G2 TESTE", { extendedKeyUsage: [SERVER_AUTH] }),
    ac(v10, "AC VALID SSL EV TESTE"),
    ac(v10, "AC EXPIRADA TESTE", { notBefore: addDays(now, -400), notAfter: addDays(now, -1) }),
    ac(v5, "AC RFB TESTE"),
    ac(unpinned, "Outra AC TESTE"),
  ]);
  const [subAc, leaf] = await Promise.all([
    ac(clientAc, "AC SUBORDINADA TESTE"),
    issueServerCertificate(clientAc, { subject: caName({ organization: "Banco TESTE", commonName: "api.banco.test" }), now }),
  ]);
  const v6 = ed448Root("Raiz v6 TESTE");
  const v7 = unknownKeyRoot("Raiz v7 TESTE");
  const explicit = explicitCurveRoot("Raiz v13 TESTE");
  const pins: PinSet = {
    pinned: [
      { name: "v5", sha256: sha256Hex(v5.der) },
      { name: "v6", sha256: sha256Hex(v6) },
      { name: "v7", sha256: sha256Hex(v7) },
      { name: "v10", sha256: sha256Hex(v10.der) },
    ],
    retired: [{ name: "v2", sha256: sha256Hex(v2.der) }],
    transportRoots: ["v10"],
  };
  const files: Record<string, Uint8Array> = {
    "ICP-Brasilv10.crt": Buffer.from(v10.pem),
    "Raizv10-copia.crt": Buffer.from(v10.pem),
    "ICP-Brasilv5.crt": Buffer.from(v5.pem),
    "ICP-Brasilv6.crt": Buffer.from(pem(v6)),
    "ICP-Brasilv7.crt": Buffer.from(pem(v7)),
    "ICP-Brasilv2.crt": Buffer.from(v2.pem),
    "ICP-Brasilv13.crt": Buffer.from(pem(explicit)),
    "OutraRaiz.crt": Buffer.from(unpinned.pem),
    // DER and CRLF PEM entries, as older zips and 25 of the 173 current files of the ITI zip have.
    "ACSSLEVG4.crt": clientAc.der,
    "ACSSLG2.crt": Buffer.from(serverOnlyAc.pem),
    "ACVALIDSSLEV.crt": Buffer.from(`\ufeff${noEkuAc.pem.replace(/\n/g, "\r\n")}`),
    "ACExpirada.crt": Buffer.from(expiredAc.pem),
    "ACRFB.crt": Buffer.from(v5Ac.pem),
    "OutraAC.crt": Buffer.from(unpinnedAc.pem),
    "ACSubordinada.crt": Buffer.from(subAc.pem),
    "servidor.crt": Buffer.from(leaf.pem),
    "lixo.crt": Buffer.from("this is not a certificate\n"),
    "lixo-der.crt": new Uint8Array([0x30, 0x82, 0x01, 0x00, 1, 2, 3, 4]),
    "LEIAME.txt": Buffer.from("read me"),
    "../fora.crt": Buffer.from(v10.pem),
    "certs/ACSSLEVG4.crt": clientAc.der,
  };
  return { v10, v5, v6, v7, explicit, v2, unpinned, clientAc, serverOnlyAc, noEkuAc, expiredAc, v5Ac, unpinnedAc, subAc, leaf, pins, files };
}

type Pki = Awaited<ReturnType<typeof fakeIcpBrasil>>;

describe("ofb-edge trust fetch", () => {
  let pki: Pki;
  let server: Server;
  let base: string;
  const routes = new Map<string, string | Uint8Array>();
  const serve = (zipFiles: Zippable, hash?: string) => {
    const zip = zipSync(zipFiles);
    routes.set("/ACcompactado.zip", zip);
    routes.set("/hashsha512.txt", hash ?? sha512sum(zip));
    return zip;
  };
  const run = async (dir: string, extra: string[] = [], pins = pki.pins) => {
    const { io, stdout, stderr } = capture();
    const args = ["fetch", "--bundle-url", `${base}/ACcompactado.zip`, "--sha512-url", `${base}/hashsha512.txt`, "--out", join(dir, "transport.pem"), ...extra];
    const code = await runTrust(args, io, { pins });
    return { code, stdout: stdout.join("\n"), stderr: stderr.join("\n") };
  };
  const readReport = async (dir: string) => JSON.parse(await readFile(join(dir, "transport.report.json"), "utf8")) as TrustReport;
  const bundleHashes = async (dir: string) => {
    const text = await readFile(join(dir, "transport.pem"), "utf8");
    return loadTrustAnchors([{ source: "bundle", text }]).certs.map((c) => c.sha256).sort();
  };
  const hashes = (...certs: { der: Uint8Array }[]) => certs.map((c) => sha256Hex(c.der)).sort();
  const dirs: string[] = [];
  const tempDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), "ofb-trust-"));
    dirs.push(dir);
    return dir;
  };

  beforeAll(async () => {
    pki = await fakeIcpBrasil();
    server = createServer((req, res) => {
      const body = routes.get(req.url ?? "");
      if (req.url === "/moved.zip") res.writeHead(302, { location: "/ACcompactado.zip" }).end();
      else if (body === undefined) res.writeHead(404).end();
      else res.writeHead(200, { "content-type": "application/octet-stream" }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it("writes exactly root v10 and its clientAuth / no-EKU ACs, and reports every other entry with its reason", async () => {
    serve(pki.files);
    const dir = await tempDir();
    const { code, stdout } = await run(dir);
    expect(code).toBe(0);
    expect(await bundleHashes(dir)).toEqual(hashes(pki.v10, pki.clientAc, pki.noEkuAc));

    const report = await readReport(dir);
    const skipped = Object.fromEntries(report.skipped.map((s) => [s.entry, s.code]));
    expect(skipped).toEqual({
      "LEIAME.txt": "NOT_CRT",
      "../fora.crt": "UNSAFE_NAME",
      "certs/ACSSLEVG4.crt": "UNSAFE_NAME",
      "lixo.crt": "NOT_A_CERTIFICATE",
      "lixo-der.crt": "UNPARSEABLE",
      "Raizv10-copia.crt": "DUPLICATE",
      "ICP-Brasilv13.crt": "EXPLICIT_EC_PARAMETERS",
      "ICP-Brasilv7.crt": "KEY_UNDECODABLE",
      "ACExpirada.crt": "EXPIRED",
      "OutraRaiz.crt": "UNPINNED_ROOT",
      "OutraAC.crt": "NO_PINNED_PATH",
      "servidor.crt": "NOT_A_CA",
    });
    const v7 = report.skipped.find((s) => s.entry === "ICP-Brasilv7.crt")!;
    expect(v7.reason).toMatch(/^pinned root v7: public key 1\.3\.6\.1\.4\.1\.44588\.2\.1 cannot be decoded/);
    expect(v7.sha256).toBe(sha256Hex(pki.v7));
    expect(v7.subject).toContain("CN=Raiz v7 TESTE");
    expect(report.skipped.find((s) => s.entry === "OutraAC.crt")!.reason).toBe("issuer Outra Raiz TESTE is skipped (UNPINNED_ROOT)");
    expect(report.retired).toEqual([expect.objectContaining({ entry: "ICP-Brasilv2.crt", root: "v2", sha256: sha256Hex(pki.v2.der) })]);
    expect(Object.fromEntries(report.excluded.map((e) => [e.entry, e.code]))).toEqual({
      "ICP-Brasilv5.crt": "OTHER_ROOT",
      "ICP-Brasilv6.crt": "OTHER_ROOT",
      "ACRFB.crt": "OTHER_ROOT",
      "ACSSLG2.crt": "EKU_WITHOUT_CLIENT_AUTH",
      "ACSubordinada.crt": "NOT_LEVEL_1",
    });
    expect(report.pinnedRoots.map((r) => [r.name, r.found])).toEqual([["v5", true], ["v6", true], ["v7", false], ["v10", true]]);
    expect(report.kept.map((k) => k.role)).toContain("root v10");
    const kept = report.kept.find((k) => k.entry === "ACSSLEVG4.crt")!;
    expect(kept).toMatchObject({ sha256: sha256Hex(pki.clientAc.der), notAfter: pki.clientAc.cert.notAfter.toISOString() });
    expect(kept.subject).toContain("CN=AC SSL EV G4 TESTE");
    expect(report.changes).toMatchObject({ previous: null, removed: [] });
    expect(report.changes.added.map((a) => a.sha256).sort()).toEqual(hashes(pki.v10, pki.clientAc, pki.noEkuAc));
    expect(report.source).toMatchObject({ kind: "iti-zip", sha512: createHash("sha512").update(routes.get("/ACcompactado.zip")!).digest("hex") });
    expect(stdout).toMatch(/^skipped ICP-Brasilv7\.crt: pinned root v7: .* \[KEY_UNDECODABLE\]/m);
    expect(stdout).toMatch(/^retired ICP-Brasilv2\.crt: root v2/m);
    expect(stdout).toContain("not transport: 2 certificate(s) under root v5 [OTHER_ROOT]");
    expect(stdout).toMatch(/^not transport ACSSLG2\.crt: extendedKeyUsage \[1\.3\.6\.1\.5\.5\.7\.3\.1\] lacks clientAuth/m);
  });

  it("reports a removed AC on the next run, and an unchanged bundle as unchanged", async () => {
    serve(pki.files);
    const dir = await tempDir();
    expect((await run(dir)).code).toBe(0);
    const { "ACVALIDSSLEV.crt": _removed, ...without } = pki.files;
    serve(without);
    const second = await run(dir);
    expect(second.code).toBe(0);
    expect(await bundleHashes(dir)).toEqual(hashes(pki.v10, pki.clientAc));
    const report = await readReport(dir);
    expect(report.changes.previous).toBe(join(dir, "transport.pem"));
    expect(report.changes.added).toEqual([]);
    expect(report.changes.removed).toEqual([{ sha256: sha256Hex(pki.noEkuAc.der), subject: expect.stringContaining("CN=AC VALID SSL EV TESTE") }]);
    expect(second.stdout).toMatch(/^- removed .*AC VALID SSL EV TESTE/m);
    const third = await run(dir);
    expect(third.stdout).toContain("unchanged since the previous bundle");
  });

  it("refuses a zip whose SHA-512 differs from the published one, and writes nothing", async () => {
    const zip = serve(pki.files);
    const tampered = Uint8Array.from(zip);
    tampered[tampered.length - 30]! ^= 0xff;
    routes.set("/ACcompactado.zip", tampered);
    const dir = await tempDir();
    const { code, stderr } = await run(dir);
    expect(code).toBe(1);
    expect(stderr).toMatch(/SHA-512 of http:\/\/127\.0\.0\.1:\d+\/ACcompactado\.zip is [0-9a-f]{128}, but .*hashsha512\.txt gives [0-9a-f]{128}: the zip is corrupt or tampered with \[HASH_MISMATCH\]; nothing written/);
    expect(existsSync(join(dir, "transport.pem"))).toBe(false);
    expect(existsSync(join(dir, "transport.report.json"))).toBe(false);
  });

  it("keeps the previous bundle when the hash file is malformed or missing", async () => {
    serve(pki.files);
    const dir = await tempDir();
    expect((await run(dir)).code).toBe(0);
    const before = await readFile(join(dir, "transport.pem"), "utf8");
    routes.set("/hashsha512.txt", "<html>maintenance</html>");
    expect(await run(dir)).toMatchObject({ code: 1, stderr: expect.stringContaining("[HASH_FILE_INVALID]") });
    routes.delete("/hashsha512.txt");
    expect(await run(dir)).toMatchObject({ code: 1, stderr: expect.stringMatching(/hashsha512\.txt: HTTP 404 \[DOWNLOAD_FAILED\]/) });
    expect(await readFile(join(dir, "transport.pem"), "utf8")).toBe(before);
  });

  it("follows a redirect to the zip and bounds the download size", async () => {
    const zip = serve(pki.files);
    routes.set("/hashsha512.txt", sha512sum(zip, "moved.zip"));
    const dir = await tempDir();
    expect((await run(dir, ["--bundle-url", `${base}/moved.zip`])).code).toBe(0);
    const { io, stderr } = capture();
    const args = ["fetch", "--bundle-url", `${base}/moved.zip`, "--sha512-url", `${base}/hashsha512.txt`, "--out", join(dir, "small.pem")];
    const limits = { maxZipBytes: 100, maxHashFileBytes: 4096, maxJwksBytes: 1024, maxFileBytes: 1024, maxEntries: 10, maxEntryBytes: 1024, maxTotalBytes: 4096 };
    expect(await runTrust(args, io, { pins: pki.pins, limits })).toBe(1);
    expect(stderr.join("\n")).toMatch(/exceeds the zip size limit \(100\) \[DOWNLOAD_FAILED\]/);
  });

  it("fails when the transport root is missing or no pinned root is present (the real pins by default)", async () => {
    const { "ICP-Brasilv10.crt": _a, "Raizv10-copia.crt": _b, ...withoutV10 } = pki.files;
    serve(withoutV10);
    const dir = await tempDir();
    expect(await run(dir)).toMatchObject({ code: 1, stderr: expect.stringContaining("transport root v10 is not usable in the source [NO_TRANSPORT_ROOT]") });
    serve(pki.files);
    const { io, stderr } = capture();
    const args = ["fetch", "--bundle-url", `${base}/ACcompactado.zip`, "--sha512-url", `${base}/hashsha512.txt`, "--out", join(dir, "x.pem")];
    expect(await runTrust(args, io)).toBe(1);
    expect(stderr.join("\n")).toMatch(/no pinned root \(v5, v6, v7, v10, v11, v12\) is usable in the source.*\[NO_PINNED_ROOT\]/);
    expect(existsSync(join(dir, "x.pem"))).toBe(false);
  });

  it("reads the Directory's roots.jwks with the same pinning and filtering", async () => {
    const b64 = (c: { der: Uint8Array }) => Buffer.from(c.der).toString("base64");
    routes.set(
      "/roots.jwks",
      JSON.stringify({
        keys: [
          { kty: "RSA", kid: "a", x5c: [b64(pki.clientAc), b64(pki.v10)] },
          { kty: "RSA", kid: "b", x5c: [b64(pki.serverOnlyAc), b64(pki.v10)] },
          { kty: "RSA", kid: "c", x5c: [b64(pki.v5Ac), b64(pki.v5)] },
          { kty: "RSA", kid: "d", x5c: [b64(pki.unpinnedAc)] },
          { kty: "RSA", kid: "e" },
        ],
      }),
    );
    const dir = await tempDir();
    const { io, stdout } = capture();
    const args = ["fetch", "--source", "roots-jwks", "--roots-jwks-url", `${base}/roots.jwks`, "--out", join(dir, "transport.pem")];
    expect(await runTrust(args, io, { pins: pki.pins })).toBe(0);
    expect(await bundleHashes(dir)).toEqual(hashes(pki.v10, pki.clientAc));
    const report = await readReport(dir);
    expect(report.source).toEqual({ kind: "roots-jwks", url: `${base}/roots.jwks` });
    expect(report.skipped.map((s) => [s.entry, s.code])).toEqual([
      ["keys[4]", "NOT_A_CERTIFICATE"],
      ["keys[1].x5c[1]", "DUPLICATE"],
      ["keys[3].x5c[0]", "NO_PINNED_PATH"],
    ]);
    expect(report.excluded.map((e) => [e.entry, e.code])).toEqual([
      ["keys[2].x5c[1]", "OTHER_ROOT"],
      ["keys[1].x5c[0]", "EKU_WITHOUT_CLIENT_AUTH"],
      ["keys[2].x5c[0]", "OTHER_ROOT"],
    ]);
    expect(stdout.join("\n")).toContain("wrote");
  });

  it("--preset sandbox anchors on the roots of a local PEM", async () => {
    const now = new Date();
    const sandboxRoot = await createTestCa({ subject: caName({ organization: "Open Finance Brasil", organizationalUnits: ["Open Finance sandbox"], commonName: "Open Finance sandbox Root CA - G2" }), now });
    const issuing = await createTestCa({ subject: caName({ organization: "Open Finance Brasil", commonName: "Open Finance sandbox Issuing CA - G2" }), issuer: sandboxRoot, now });
    const dir = await tempDir();
    const file = join(dir, "sandbox-cas.pem");
    await writeFile(file, `${issuing.pem}${sandboxRoot.pem}${pki.serverOnlyAc.pem}`);
    const { io, stdout } = capture();
    expect(await runTrust(["fetch", "--preset", "sandbox", "--sandbox-cas", file, "--out", join(dir, "transport.pem")], io)).toBe(0);
    expect(await bundleHashes(dir)).toEqual(hashes(sandboxRoot, issuing));
    const report = await readReport(dir);
    expect(report.source).toEqual({ kind: "sandbox-file", path: file });
    expect(report.pinnedRoots).toEqual([{ name: "Open Finance sandbox Root CA - G2", sha256: sha256Hex(sandboxRoot.der), found: true }]);
    expect(report.skipped.map((s) => [s.entry, s.code])).toEqual([["sandbox-cas.pem#3", "NO_PINNED_PATH"]]);
    expect(stdout.join("\n")).toMatch(/wrote .*transport\.pem: 1 root\(s\) \+ 1 AC\(s\)/);
    const missing = capture();
    expect(await runTrust(["fetch", "--preset", "sandbox", "--sandbox-cas", join(dir, "none.pem"), "--out", join(dir, "x.pem")], missing.io)).toBe(1);
    expect(missing.stderr.join("\n")).toMatch(/none\.pem: cannot be read \(ENOENT\) \[SOURCE_FILE_INVALID\]; nothing written/);
  });

  it("prints its usage on --help", async () => {
    const { io, stdout } = capture();
    expect(await runTrust(["fetch", "--help"], io)).toBe(0);
    expect(stdout.join("\n")).toMatch(/^Usage: ofb-edge trust fetch/);
  });

  it.each([
    [["verify"], /unknown sub-command 'verify'/],
    [["fetch", "--source", "ldap"], /--source must be iti-zip or roots-jwks/],
    [["fetch", "--preset", "sandbox"], /--preset sandbox needs --sandbox-cas FILE/],
    [["fetch", "--preset", "sandbox", "--sandbox-cas", "x.pem", "--bundle-url", "http://x/"], /--bundle-url does not apply/],
    [["fetch", "--roots-jwks-url", "https://x/roots.jwks"], /--roots-jwks-url goes with --source roots-jwks/],
    [["fetch", "--bundle-url", "ftp://x/a.zip"], /'ftp:\/\/x\/a\.zip' is not an http\(s\) URL/],
    [["fetch", "--timeout", "0"], /--timeout takes a number of seconds/],
    [["fetch", "--out", "a.pem", "--report", "./a.pem"], /--report must differ from --out/],
    [["fetch", "--unknown"], /Unknown option '--unknown'/],
  ])("usage error for %j exits 2", async (argv, message) => {
    const { io, stderr } = capture();
    expect(await runTrust(argv, io, { pins: pki.pins })).toBe(2);
    expect(stderr.join("\n")).toMatch(message);
  });
});
