import { readFile } from "node:fs/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { loadTrustAnchors } from "../../src/pki/anchors.js";
import { verifyPath } from "../../src/pki/path.js";
import { createChainPolicy, type ChainVerdict } from "../../src/pki/policy.js";
import { sha256Hex } from "../../src/pki/thumbprint.js";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { testPki } from "../helpers/edge.js";

// The two roles of the certificates in the trust-anchor files: anchors (self-signed roots) and allowed issuers
// (the ACs), and chain policy over them for chains that do not come from a handshake (pki/path.ts builds them
// as OpenSSL does with the files as its store). End to end through `serve`: anchor-files-serve.test.ts.

let pki: TestPkiManifest;
const text = (file: string) => readFile(file, "utf8");
const der = async (file: string) => new Uint8Array(Buffer.from((await text(file)).replace(/-----[^-]+-----|\s/g, ""), "base64"));
const sha256 = async (file: string) => sha256Hex(await der(file));

beforeAll(async () => {
  pki = await testPki();
});

describe("loadTrustAnchors: anchors and allowed issuers", () => {
  it("the root-only file: one anchor, no allowed issuer; OpenSSL's store gets the same certificate", async () => {
    const anchors = loadTrustAnchors([{ source: "root.pem", text: await text(pki.anchorFiles.root) }]);
    expect(anchors.roots.map((c) => c.sha256)).toEqual([await sha256(pki.ca.root.cert)]);
    expect(anchors.issuers).toEqual([]);
    expect(anchors.pem).toHaveLength(1);
  });

  it("the transport bundle (root + ACs, as `trust fetch` writes it): the root is the only anchor, the ACs are allowed issuers, OpenSSL's store gets all three", async () => {
    const anchors = loadTrustAnchors([{ source: "bundle.pem", text: await text(pki.anchorFiles.bundle) }]);
    expect(anchors.roots.map((c) => c.sha256)).toEqual([await sha256(pki.ca.root.cert)]);
    expect([...anchors.bySha256.keys()]).toEqual([await sha256(pki.ca.root.cert)]);
    expect(anchors.issuers.map((c) => c.sha256)).toEqual([await sha256(pki.ca.sslAc.cert), await sha256(pki.ca.stringTypesAc.cert)]);
    expect(anchors.pem).toHaveLength(3);
    expect(anchors.certs).toHaveLength(3);
  });

  it("every root: three anchors; an AC may sit in another file than its root", async () => {
    const all = loadTrustAnchors([{ source: "all-roots.pem", text: await text(pki.anchorFiles.allRoots) }]);
    expect(all.roots).toHaveLength(3);
    expect(all.issuers).toEqual([]);
    const split = loadTrustAnchors([
      { source: "acs.pem", text: await text(pki.ca.sslAc.cert) },
      { source: "roots.pem", text: await text(pki.ca.root.cert) },
    ]);
    expect(split.roots.map((c) => c.label)).toEqual(["Autoridade Certificadora Raiz Brasileira v10 TESTE"]);
    expect(split.issuers.map((c) => c.label)).toEqual(["AC TESTE SSL EV G4"]);
  });

  it("an AC whose issuer is in no file can never validate: the error names the file, the certificate and the fix", async () => {
    const bundle = `${await text(pki.ca.root.cert)}${await text(pki.ca.v5Ac.cert)}`;
    expect(() => loadTrustAnchors([{ source: "/etc/ofb-edge/bundle.pem", text: bundle }])).toThrow(
      "/etc/ofb-edge/bundle.pem: certificate #2 'AC Secretaria da Receita Federal do Brasil v4 TESTE' is an AC whose issuer 'Autoridade Certificadora Raiz Brasileira v5 TESTE' is in none of the trust-anchor files: no path through it can end at a root (partial chains are not accepted), so it would never validate a client; add its root (and any AC between) to the files, or remove the AC",
    );
    // An AC under another AC of the files is fine as long as the chain of files reaches a root.
    const deep = loadTrustAnchors([{ source: "deep.pem", text: `${await text(pki.ca.subAc.cert)}${await text(pki.ca.sslAc.cert)}${await text(pki.ca.root.cert)}` }]);
    expect(deep.issuers.map((c) => c.label)).toEqual(["AC TESTE SUBORDINADA", "AC TESTE SSL EV G4"]);
  });

  it("a certificate that is neither a root nor a CA is refused, naming it", async () => {
    const withLeaf = `${await text(pki.ca.root.cert)}${await text(pki.clients["participant-a"]!.cert)}`;
    expect(() => loadTrustAnchors([{ source: "mixed.pem", text: withLeaf }])).toThrow(
      /^mixed\.pem: certificate #2 'participant-a\.tpp\.ofb-edge\.test' is neither a self-signed root nor a CA \(basicConstraints cA is not set\)/,
    );
  });
});

describe("chain policy with each trust-anchor file (forwarded or inspected chains: pki/path.ts)", () => {
  type FileId = keyof TestPkiManifest["anchorFiles"];

  async function judge(file: FileId, chainFile: string): Promise<ChainVerdict> {
    const anchors = loadTrustAnchors([{ source: file, text: await text(pki.anchorFiles[file]) }]);
    const policy = createChainPolicy({ anchors, transportRoots: new Set([await sha256(pki.ca.root.cert)]), minRsaBits: 2048, requireIntermediate: true, now: () => Date.now() });
    const presented = (await text(chainFile)).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!.map((b) => new Uint8Array(Buffer.from(b.replace(/-----[^-]+-----|\s/g, ""), "base64")));
    return policy(presented, verifyPath(presented, anchors));
  }
  const outcome = (v: ChainVerdict) => (v.ok ? "accept" : v.code);

  it.each([
    ["root", "participant-a", "accept"],
    ["bundle", "participant-a", "accept"],
    ["allRoots", "participant-a", "accept"],
    ["bundle", "participant-printable-issuer", "accept"],
    ["root", "participant-retired-ac", "accept"],
    ["bundle", "participant-retired-ac", "CERT_ISSUER_NOT_ALLOWED"],
    ["allRoots", "participant-retired-ac", "accept"],
    ["root", "e-cnpj", "CERT_UNTRUSTED"],
    ["bundle", "e-cnpj", "CERT_UNTRUSTED"],
    ["allRoots", "e-cnpj", "CERT_HIERARCHY_NOT_TRANSPORT"],
    ["allRoots", "other-ca", "CERT_HIERARCHY_NOT_TRANSPORT"],
  ] as const)("%s file, %s (leaf + AC) → %s", async (file, client, expected) => {
    const verdict = await judge(file, pki.clients[client]!.chain);
    expect(outcome(verdict)).toBe(expected);
    // The catalogue records the same outcome for the whole pipeline.
    expect(pki.clients[client]!.expectByAnchorFile[file]).toBe(expected);
  });

  it("the leaf alone: refused CERT_CHAIN_INCOMPLETE with every file, saying the client sent only its leaf when the files hold its AC", async () => {
    const alone = pki.clients["participant-a"]!.cert;
    for (const file of ["root", "bundle", "allRoots"] as const) expect(outcome(await judge(file, alone)), file).toBe("CERT_CHAIN_INCOMPLETE");
    const verdict = await judge("bundle", alone);
    expect(verdict).toMatchObject({ ok: false, rule: "intermediate-required", certIndex: 1 });
    expect(!verdict.ok && verdict.detail).toBe(
      "the client sent only its leaf: its issuing AC 'AC TESTE SSL EV G4' must be sent with it (the trust-anchor files complete a chain, they do not stand in for the client's)",
    );
    expect(verdict.links?.map((l) => [l.cert.label, l.sent, l.inTrustFiles])).toEqual([
      ["participant-a.tpp.ofb-edge.test", true, false],
      ["AC TESTE SSL EV G4", false, true],
      ["Autoridade Certificadora Raiz Brasileira v10 TESTE", false, true],
    ]);
  });

  it("the e-CNPJ with every root: the refusal names the v5 root and its index; the retired AC with the bundle names the AC", async () => {
    const hierarchy = await judge("allRoots", pki.clients["e-cnpj"]!.chain);
    expect(hierarchy).toMatchObject({ ok: false, code: "CERT_HIERARCHY_NOT_TRANSPORT", rule: "transport-hierarchy", certIndex: 2 });
    expect(!hierarchy.ok && hierarchy.detail).toContain("root 'Autoridade Certificadora Raiz Brasileira v5 TESTE'");
    const retired = await judge("bundle", pki.clients["participant-retired-ac"]!.chain);
    expect(retired).toMatchObject({ ok: false, code: "CERT_ISSUER_NOT_ALLOWED", rule: "issuer-allowed", certIndex: 1 });
    expect(!retired.ok && retired.detail).toBe("AC 'AC TESTE SSL EV V4 REMOVIDA' is not one of the ACs in the trust-anchor files (the ACs a transport certificate may chain through)");
  });

  it("a policy without any transport root is refused when it is built", async () => {
    const anchors = loadTrustAnchors([{ source: "root.pem", text: await text(pki.anchorFiles.root) }]);
    expect(() => createChainPolicy({ anchors, transportRoots: new Set(), minRsaBits: 2048, requireIntermediate: true, now: () => 0 })).toThrow(/transportRoots must name at least one root/);
  });
});
