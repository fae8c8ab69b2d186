import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest } from "../helpers/client.js";
import { testPki } from "../helpers/edge.js";
import { spawnEdge } from "../helpers/serve-process.js";
import { BUNDLE_2026, LEAVES, certificateDer, zipOfBundle2026 } from "./real-fixtures.js";

/**
 * Issue 13, "done when", on the real ICP-Brasil certificates and as a newcomer runs the product (spawned
 * bin/ofb-edge.js, real pins, real clock): `trust fetch --from` the ITI zip, then the bundle it writes as
 * `tls.trustAnchors`. Real leaves come without their keys, so their verdict is taken by `ofb-edge inspect` at an
 * instant inside their validity (the same chain policy and identity stages `serve` runs per connection); `serve`
 * itself is shown to start on that bundle and to refuse a client outside it.
 */
const ROOT = resolve(import.meta.dirname, "../..");
const exec = promisify(execFile);
const pem = (der: Uint8Array) => `-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString("base64").match(/.{1,64}/g)!.join("\n")}\n-----END CERTIFICATE-----\n`;

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return exec(process.execPath, ["bin/ofb-edge.js", ...args], { cwd: ROOT, timeout: 60_000, maxBuffer: 16 << 20 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

describe("a newcomer's production path on the real ICP-Brasil certificates", () => {
  let dir: string;
  const bundle = () => join(dir, "icp-brasil-transport.pem");
  const chainFile = async (name: string, ...ders: Uint8Array[]) => {
    const path = join(dir, name);
    await writeFile(path, ders.map(pem).join(""));
    return path;
  };
  const ac = (file: string) => certificateDer(join(BUNDLE_2026, file));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ofb-newcomer-"));
    const zip = zipOfBundle2026();
    await writeFile(join(dir, "ACcompactado.zip"), zip);
    await writeFile(join(dir, "hashsha512.txt"), `${createHash("sha512").update(zip).digest("hex")}  ACcompactado.zip\n`);
    const fetched = await cli("trust", "fetch", "--from", join(dir, "ACcompactado.zip"), "--sha512", join(dir, "hashsha512.txt"), "--out", bundle());
    if (fetched.code !== 0) throw new Error(`trust fetch failed: ${fetched.stderr}`);
  }, 60_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("a real v10 transport certificate with the OFB subject, sent as leaf + AC, is accepted with that bundle", async () => {
    const chain = await chainFile("soluti.pem", certificateDer(join(LEAVES, "brcac-soluti-ssl-ev-g4.pem")), ac("AC-SOLUTI-SSL-EV-G4.crt"));
    const r = await cli("inspect", chain, "--trust-anchors", bundle(), "--at", "2024-01-15T00:00:00Z");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("identity:    organisation d7384bd0-842f-43c5-be02-9d2b2d5efc2c, software statement 70ee2970-038b-44d6-9300-d3af3a890154");
    expect(r.stdout).toMatch(/1 {2}AC {5}'AC SOLUTI SSL EV G4' — sent by the client; also in the trust-anchor files; allowed issuer/);
    expect(r.stdout).toMatch(/2 {2}anchor 'Autoridade Certificadora Raiz Brasileira v10' — not sent: from the trust-anchor files; transport root/);
    expect(r.stdout).toContain("verdict:     accepted");
  });

  it("the same certificate sent without its AC is refused CERT_CHAIN_INCOMPLETE, although the bundle holds the AC", async () => {
    const leafAlone = await chainFile("soluti-leaf.pem", certificateDer(join(LEAVES, "brcac-soluti-ssl-ev-g4.pem")));
    const r = await cli("inspect", leafAlone, "--trust-anchors", bundle(), "--at", "2024-01-15T00:00:00Z");
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/verdict: {5}rejected CERT_CHAIN_INCOMPLETE \(pki\/intermediate-required, certificate 1\): the client sent only its leaf/);
  });

  it("a real v5 e-CNPJ (clientAuth) is refused with the hierarchy reason, its fields still shown", async () => {
    const chain = await chainFile("ecnpj.pem", certificateDer(join(LEAVES, "ecnpj-a1-valid-rfb-v5.der")), ac("AC_VALID_RFB_v5.crt"), ac("AC_Secretaria_da_Receita_Federal_do_Brasil_v4.crt"));
    const r = await cli("inspect", chain, "--trust-anchors", bundle(), "--at", "2025-12-01T00:00:00Z");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("ICP-Brasil otherNames CNPJ (2.16.76.1.3.3) '11905971000105'");
    expect(r.stdout).toMatch(/verdict: {5}rejected CERT_HIERARCHY_NOT_TRANSPORT \(pki\/transport-hierarchy, certificate 2\): the chain leads to ICP-Brasil root v5/);
  });

  it("serve starts on that bundle as tls.trustAnchors (default policy.transportRoots: root v10) and refuses a client outside it", async () => {
    const pki = await testPki();
    const backend = await startRecordingBackend();
    const started = Date.now();
    const edge = await spawnEdge(
      {
        listeners: [{ name: "edge", host: "127.0.0.1", port: 0, mode: "permissive", tls: { cert: pki.server.cert, key: pki.server.key, trustAnchors: [bundle()] } }],
        routes: [{ name: "open-banking", pathPrefix: "/open-banking/", upstream: backend.url }],
        // Root v10's CRL is on acraiz.icpbrasil.gov.br, out of a test's reach: revocation has its own tests.
        revocation: { mode: "off" },
        workers: 1,
      },
      { cwd: dir },
    );
    try {
      expect(Date.now() - started).toBeLessThan(15_000);
      const res = await httpsRequest({ pki, port: edge.port, credentials: { cert: readFileSync(pki.clients["participant-a"]!.chain), key: readFileSync(pki.clients["participant-a"]!.key) } });
      expect({ status: res.status, code: res.json<{ errors: { code: string }[] }>().errors[0]!.code }).toEqual({ status: 401, code: "CERT_UNTRUSTED" });
      expect(backend.received).toHaveLength(0);
    } finally {
      await edge.stop();
      await edge.cleanup();
      await backend.close();
    }
  });
});
