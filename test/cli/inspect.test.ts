import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { testPki } from "../helpers/edge.js";

// `ofb-edge inspect` as an operator runs it (a spawned process): a certificate judged at an instant, against a
// trust-anchor file that may hold roots and ACs and the transport roots, with the identity fields and the chain
// shown even when the verdict is a refusal.

const ROOT = resolve(import.meta.dirname, "../..");
const exec = promisify(execFile);
let pki: TestPkiManifest;

async function inspect(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ["bin/ofb-edge.js", "inspect", ...args], { cwd: ROOT });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const line = (stdout: string, label: string) => stdout.split("\n").filter((l) => l.startsWith(label));

beforeAll(async () => {
  pki = await testPki();
});

describe("ofb-edge inspect", () => {
  it("--help prints the usage with the options and exit statuses, exit 0", async () => {
    const r = await inspect("--help");
    expect(r.code).toBe(0);
    for (const text of ["--trust-anchors FILE", "--transport-root", "--at INSTANT", "Exit status: 0 accepted; 1 refused, or a file cannot be read; 2 usage error."]) expect(r.stdout).toContain(text);
  });

  it("a v5 e-CNPJ with every root loaded: refused CERT_HIERARCHY_NOT_TRANSPORT, and the fields it read and the chain with each role are shown", async () => {
    const client = pki.clients["e-cnpj"]!;
    const r = await inspect(client.chain, "--trust-anchors", pki.anchorFiles.allRoots, "--transport-root", pki.ca.root.cert, "--profile", "rfc9440");
    expect(r.code).toBe(1);
    expect(line(r.stdout, "verdict:")).toEqual([expect.stringMatching(/^verdict: +rejected CERT_HIERARCHY_NOT_TRANSPORT \(pki\/transport-hierarchy, certificate 2\): the chain ends at root 'Autoridade Certificadora Raiz Brasileira v5 TESTE'/)]);
    expect(r.stdout).toContain(`CN 'E CNPJ TESTE LTDA:${client.cnpj}'`);
    expect(r.stdout).toContain(`ICP-Brasil otherNames CNPJ (2.16.76.1.3.3) '${client.cnpj}', CEI (2.16.76.1.3.7) '000000000000', responsible person (2.16.76.1.3.2/.4): present, personal data not shown`);
    expect(r.stdout).not.toContain("12345678909");
    expect(r.stdout).toMatch(/^identity: +not an OFB participant identity: IDENTITY_SOFTWARE_STATEMENT_MISSING/m);
    expect(r.stdout).toMatch(/^ {2}0 {2}leaf +'E CNPJ TESTE LTDA:[0-9]{14}' — the certificate presented — valid until/m);
    expect(r.stdout).toMatch(/^ {2}1 {2}AC +'AC Secretaria da Receita Federal do Brasil v4 TESTE' — sent by the client; allowed issuer \(the trust-anchor files hold roots only\)/m);
    expect(r.stdout).toMatch(/^ {2}2 {2}anchor 'Autoridade Certificadora Raiz Brasileira v5 TESTE' — not sent: from the trust-anchor files; NOT a transport root \(policy\.transportRoots\)/m);
    expect(r.stdout).not.toContain("profile rfc9440:");
  });

  it("participant-a with the bundle: leaf + AC accepted (its AC an allowed issuer, the root the transport root); the leaf alone refused, with the chain completed from the file", async () => {
    const a = pki.clients["participant-a"]!;
    const ok = await inspect(a.chain, "--trust-anchors", pki.anchorFiles.bundle, "--transport-root", new X509Certificate(readFileSync(pki.ca.root.cert)).fingerprint256, "--profile", "ofb-identity");
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^verdict: +accepted$/m);
    expect(ok.stdout).toMatch(/^ {2}1 {2}AC +'AC TESTE SSL EV G4' — sent by the client; also in the trust-anchor files; allowed issuer \(in the trust-anchor files\)/m);
    expect(ok.stdout).toMatch(/^ {2}2 {2}anchor 'Autoridade Certificadora Raiz Brasileira v10 TESTE' — not sent: from the trust-anchor files; transport root/m);
    expect(ok.stdout).toContain(`  x-ofb-organisation-id: ${a.organisationId}`);
    const alone = await inspect(a.cert, "--trust-anchors", pki.anchorFiles.bundle, "--transport-root", pki.ca.root.cert);
    expect(alone.code).toBe(1);
    expect(alone.stdout).toMatch(/^verdict: +rejected CERT_CHAIN_INCOMPLETE \(pki\/intermediate-required, certificate 1\): the client sent only its leaf/m);
    expect(alone.stdout).toMatch(/^ {2}1 {2}AC +'AC TESTE SSL EV G4' — not sent: from the trust-anchor files/m);
    expect(alone.stdout).toMatch(new RegExp(`^identity: +organisation ${a.organisationId}, software statement ${a.softwareStatementId}, CNPJ ${a.cnpj}$`, "m"));
  });

  it("--at judges every certificate at that instant: before participant-a's notBefore it is refused CERT_NOT_YET_VALID; inside its validity, accepted", async () => {
    const a = pki.clients["participant-a"]!;
    const notBefore = new Date(new X509Certificate(readFileSync(a.cert)).validFrom);
    const before = new Date(notBefore.getTime() - 3_600_000).toISOString();
    const r = await inspect(a.chain, "--trust-anchors", pki.trustAnchors, "--transport-root", pki.ca.root.cert, "--at", before, "--profile", "rfc9440");
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^judged at: +${before.replace(/\./g, "\\.")}$`, "m"));
    expect(r.stdout).toMatch(/^verdict: +rejected CERT_NOT_YET_VALID \(pki\/validity, certificate 0\)/m);
    expect(r.stdout).toMatch(/^ {2}0 {2}leaf .* — NOT valid before /m);
    const inside = new Date(notBefore.getTime() + 3_600_000).toISOString();
    expect((await inspect(a.chain, "--trust-anchors", pki.trustAnchors, "--transport-root", pki.ca.root.cert, "--at", inside, "--profile", "rfc9440")).code).toBe(0);
    const expired = await inspect(pki.clients["expired"]!.chain, "--trust-anchors", pki.trustAnchors, "--transport-root", pki.ca.root.cert, "--at", inside, "--profile", "rfc9440");
    expect(expired.stdout).toMatch(/^verdict: +accepted$/m);
  });

  it("without --transport-root the default is ICP-Brasil root v10, so the test PKI's chain is refused as not transport", async () => {
    const r = await inspect(pki.clients["participant-a"]!.chain, "--trust-anchors", pki.trustAnchors);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^verdict: +rejected CERT_HIERARCHY_NOT_TRANSPORT/m);
  });

  it("usage errors exit 2 naming the problem; unreadable files exit 1 naming the option", async () => {
    const at = await inspect(pki.clients["participant-a"]!.chain, "--at", "yesterday");
    expect(at.code).toBe(2);
    expect(at.stderr).toContain("--at 'yesterday' is not an ISO 8601 instant with a zone");
    expect((await inspect()).code).toBe(2);
    expect((await inspect("a.pem", "--bogus")).code).toBe(2);
    const root = await inspect(pki.clients["participant-a"]!.chain, "--trust-anchors", pki.trustAnchors, "--transport-root", "/nonexistent/root.pem");
    expect(root.code).toBe(1);
    expect(root.stderr).toContain("--transport-root[0]: '/nonexistent/root.pem' is neither a SHA-256 fingerprint");
    const anchors = await inspect(pki.clients["participant-a"]!.chain, "--trust-anchors", "/nonexistent/anchors.pem");
    expect(anchors.code).toBe(1);
    expect(anchors.stderr).toContain("--trust-anchors: cannot read /nonexistent/anchors.pem: ENOENT");
  });
});
