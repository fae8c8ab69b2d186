import * as x509 from "@peculiar/x509";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { freePort, startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest } from "../helpers/client.js";
import { startTestEdge, testPki } from "../helpers/edge.js";
import { createDpPki, type DpClient, type DpPki } from "./dp-pki.js";
import { HOUR, signCrl } from "./fixtures.js";

/**
 * An air-gapped edge: the certificates' distribution points cannot be reached (nothing listens there), and the
 * CRLs come from `revocation.crlFiles` — a folder with a DER file, a PEM file holding two ACs' CRLs (CRLF) and a
 * broken file, plus a DER file named directly. No AC is known at start (the anchor file holds the root alone):
 * each CRL waits for its AC's first certificate. Replacing a file with a newer CRL takes effect without restart.
 */

let pki: TestPkiManifest;
let dir: string;
let crlDir: string;
let dp: DpPki;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
const now = Date.now();
const dates = { thisUpdate: new Date(now - 10 * 60_000), nextUpdate: new Date(now + HOUR) };
const pem = (...ders: Uint8Array[]) => ders.map((d) => x509.PemConverter.encode(d.slice().buffer as ArrayBuffer, "X509 CRL")).join("\r\n").replace(/\r?\n/g, "\r\n");

beforeAll(async () => {
  [pki, backend, dir] = await Promise.all([testPki(), startRecordingBackend(), mkdtemp(join(tmpdir(), "ofb-edge-local-crls-"))]);
  const unreachable = `http://127.0.0.1:${await freePort()}`;
  dp = await createDpPki(dir, (n) => `${unreachable}/${n}.crl`);
  crlDir = join(dir, "crls");
  await mkdir(crlDir);
  const [root, a, b, bare] = await Promise.all([
    signCrl(dp.root, dates),
    signCrl(dp.acs.a, { ...dates, revoked: [{ serial: dp.clients.a.revoked.serial }] }),
    signCrl(dp.acs.b, { ...dates, revoked: [{ serial: dp.clients.b.revoked.serial }] }),
    signCrl(dp.acs.bare, dates),
  ]);
  await Promise.all([
    writeFile(join(crlDir, "ac-a.crl"), a),
    writeFile(join(crlDir, "ac-b-and-root.pem"), pem(b, root)),
    writeFile(join(crlDir, "broken.pem"), "-----BEGIN X509 CRL-----\r\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\r\n-----END X509 CRL-----\r\n"),
    writeFile(join(dir, "ac-bare.der"), bare),
  ]);
});

afterAll(async () => {
  await backend?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const send = (port: number, client: DpClient) => httpsRequest({ pki, port, credentials: { cert: readFileSync(client.chainFile), key: readFileSync(client.keyFile) } });
const outcome = async (port: number, client: DpClient) => {
  const res = await send(port, client);
  return res.status === 200 ? 200 : res.json<{ errors: { code: string }[] }>().errors[0]!.code;
};

describe("revocation.crlFiles (hard-fail, distribution points unreachable)", () => {
  it("serves each AC the CRL it issued from a DER file, a PEM file with two CRLs and a folder; a broken file is logged and skipped; a replaced file applies without restart", async () => {
    const tls = { cert: pki.server.cert, key: pki.server.key, trustAnchors: [dp.anchors] };
    const edge = await startTestEdge({
      pki,
      upstream: backend.url,
      listeners: [{ name: "mtls", host: "127.0.0.1", port: 0, mode: "permissive", tls }],
      policy: { transportRoots: [dp.anchors] },
      revocation: { onStale: "hard-fail", crlFiles: [crlDir, join(dir, "ac-bare.der")], crlFilesCheckMs: 200 },
      admin: { host: "127.0.0.1", port: 0 },
    });
    try {
      const before = backend.received.length;
      expect(edge.logs.find((l) => l.event === "crl-file-refused")).toMatchObject({ file: join(crlDir, "broken.pem"), reason: expect.stringMatching(/malformed CRL/) });
      expect(edge.logs.filter((l) => l.event === "crl-file-read").map((l) => [l.file, l.crls])).toEqual(
        expect.arrayContaining([
          [join(crlDir, "ac-a.crl"), 1],
          [join(crlDir, "ac-b-and-root.pem"), 2],
          [join(dir, "ac-bare.der"), 1],
        ]),
      );
      const results = [];
      for (const c of [dp.clients.a.revoked, dp.clients.a.good, dp.clients.b.revoked, dp.clients.b.good, dp.clients.bare.good]) results.push(await outcome(edge.port, c));
      expect(results).toEqual(["CERT_REVOKED", 200, "CERT_REVOKED", 200, 200]);
      expect(backend.received.length).toBe(before + 3);
      const state = Object.fromEntries(edge.edge.revocation.state().acs.map((a) => [a.ac, a]));
      expect(state["AC TESTE DP A"]).toMatchObject({ coverage: "covered", status: "fresh", file: join(crlDir, "ac-a.crl"), source: `file://${join(crlDir, "ac-a.crl")}` });
      expect(state["AC TESTE DP BARE"]).toMatchObject({ coverage: "covered", status: "fresh", file: join(dir, "ac-bare.der") });
      expect(state[dp.info.root.label]).toMatchObject({ status: "fresh", file: join(crlDir, "ac-b-and-root.pem") });
      expect((await fetch(`http://127.0.0.1:${edge.edge.adminPort}/readyz`)).status).toBe(200);

      // The operator drops in AC a's next CRL, which also revokes the good client: refused without a restart.
      const next = await signCrl(dp.acs.a, { thisUpdate: new Date(now - 60_000), nextUpdate: new Date(now + 2 * HOUR), revoked: [{ serial: dp.clients.a.revoked.serial }, { serial: dp.clients.a.good.serial }] });
      await writeFile(join(dir, "next.tmp"), next);
      await rename(join(dir, "next.tmp"), join(crlDir, "ac-a.crl"));
      await expect.poll(() => outcome(edge.port, dp.clients.a.good), { timeout: 5_000, interval: 100 }).toBe("CERT_REVOKED");
      const forwarded = backend.received.length;
      expect(await outcome(edge.port, dp.clients.a.good)).toBe("CERT_REVOKED");
      expect(backend.received.length).toBe(forwarded);
      expect(edge.edge.revocation.state().acs.find((a) => a.ac === "AC TESTE DP A")).toMatchObject({ thisUpdate: new Date(Math.floor((now - 60_000) / 1000) * 1000).toISOString(), serials: 2 });
    } finally {
      await edge.close();
    }
  });

  it("a configured path that does not exist stops start-up, naming the key and the path", async () => {
    const tls = { cert: pki.server.cert, key: pki.server.key, trustAnchors: [dp.anchors] };
    const missing = join(dir, "no-such-folder");
    await expect(
      startTestEdge({ pki, upstream: backend.url, listeners: [{ name: "mtls", host: "127.0.0.1", port: 0, mode: "permissive", tls }], policy: { transportRoots: [dp.anchors] }, revocation: { crlFiles: [crlDir, missing] } }),
    ).rejects.toThrow(`revocation.crlFiles[1]: ${missing}: no such file or directory`);
  });
});
