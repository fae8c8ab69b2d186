import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadTrustAnchors } from "../../src/pki/anchors.js";
import { isIssuedBy, parseCertInfo, type CertInfo } from "../../src/pki/certificate.js";
import { verifyPath } from "../../src/pki/path.js";
import { checkValidity, createChainPolicy } from "../../src/pki/policy.js";
import { sha256Hex } from "../../src/pki/thumbprint.js";
import { ICP_BRASIL_PINS } from "../../src/pki/icp-brasil-roots.js";
import { BUNDLE_2026, LEAVES, WITHDRAWN, certificateDer, decodeAll, folderEntries } from "./real-fixtures.js";

/** Every certificate of the real bundle and of the withdrawn ACs, by file. */
const pool = decodeAll([...folderEntries(BUNDLE_2026), ...folderEntries(WITHDRAWN)]).filter((d) => d.info !== null);

/** The path isIssuedBy builds from a leaf through the real certificates, as file names, up to a self-issued root. */
function issuerPath(leaf: CertInfo): string[] {
  const path: string[] = [];
  let current = leaf;
  while (path.length < 5) {
    const issuer = pool.find((d) => d.info!.sha256 !== current.sha256 && isIssuedBy(current, d.info!));
    if (!issuer) break;
    path.push(issuer.entry);
    if (issuer.info!.issuerKey === issuer.info!.subjectKey) break;
    current = issuer.info!;
  }
  return path;
}

const leaf = (file: string) => parseCertInfo(certificateDer(join(LEAVES, file)));
const pem = (der: Uint8Array) => `-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString("base64")}\n-----END CERTIFICATE-----\n`;
const der = (entry: string) => pool.find((d) => d.entry === entry)!.der;
/** The default `policy.transportRoots`: ICP-Brasil root v10, by its SHA-256. */
const V10 = new Set(ICP_BRASIL_PINS.pinned.filter((p) => p.name === "v10").map((p) => p.sha256));
/** The transport store's anchor: root v10 (what `trust fetch` pins; its ACs are what clients send). */
const transportAnchors = loadTrustAnchors([{ source: "ICP-Brasilv10.crt", text: pem(der("ICP-Brasilv10.crt")) }]);

describe("chain building on real leaves", () => {
  it.each([
    ["brcac-soluti-ssl-ev-g4.pem", "AC-SOLUTI-SSL-EV-G4.crt"],
    ["brcac-certisign-ssl-ev-g4.pem", "AC-Certisign-ICP-Brasil-SSL-EV-G4.crt"],
    ["brcac-serpro-sslv1.pem", "AC-SERPRO-SSLv1-v10.crt"],
    ["brcac-serasa-ssl-ev-v3.pem", "AC-SERASA-SSL-EV-V3.crt"],
    ["ssl-valid-ssl-ev.pem", "AC-VALID-SSL-EV.crt"],
  ])("%s is issued by %s, which root v10 issued", (file, ac) => {
    expect(issuerPath(leaf(file))).toEqual([ac, "ICP-Brasilv10.crt"]);
  });

  it("the v5 e-CNPJ certificate is issued by AC VALID RFB v5 under AC Secretaria da Receita Federal do Brasil v4 and root v5", () => {
    expect(issuerPath(leaf("ecnpj-a1-valid-rfb-v5.der"))).toEqual([
      "AC_VALID_RFB_v5.crt",
      "AC_Secretaria_da_Receita_Federal_do_Brasil_v4.crt",
      "ICP-Brasilv5.crt",
    ]);
  });
});

describe("reading a real certificate file whose base64 runs past the certificate", () => {
  it("takes the certificate's own DER (the SERPRO leaf's final '=' is published as 'u003d')", () => {
    const file = join(LEAVES, "brcac-serpro-sslv1.pem");
    expect(readFileSync(file, "latin1")).toMatch(/u003d\r?\n-----END CERTIFICATE-----/);
    const der = certificateDer(file);
    expect([der.length, sha256Hex(der)]).toEqual([1886, "549c2cc4127e7fb836a7ae95563cd68e02653877672d563e574021d8290ec1bb"]);
  });
});

describe("chain policy on real transport certificates, anchored on root v10", () => {
  const policy = createChainPolicy({ anchors: transportAnchors, minRsaBits: 2048, requireIntermediate: true, transportRoots: V10, now: () => Date.parse("2024-01-15T00:00:00Z") });

  it.each([
    ["brcac-soluti-ssl-ev-g4.pem", "AC-SOLUTI-SSL-EV-G4.crt"],
    ["brcac-certisign-ssl-ev-g4.pem", "AC-Certisign-ICP-Brasil-SSL-EV-G4.crt"],
    ["brcac-serpro-sslv1.pem", "AC-SERPRO-SSLv1-v10.crt"],
  ])("accepts %s sent with its AC (%s) inside its validity and builds leaf → AC → root v10", (file, ac) => {
    const presented = [certificateDer(join(LEAVES, file)), der(ac)];
    const opensslError = verifyPath(presented, transportAnchors);
    expect(opensslError).toBeNull();
    const verdict = policy(presented, opensslError);
    if (!verdict.ok) throw new Error(`${verdict.code}: ${verdict.detail}`);
    expect(verdict.chain.map((c) => c.sha256)).toEqual([sha256Hex(presented[0]!), sha256Hex(presented[1]!), transportAnchors.certs[0]!.sha256]);
    // 2024-01-15 lies inside the validity of all three leaves (2023-08-16 → 2024-06-27 at the narrowest).
    expect(checkValidity(verdict, Date.parse("2024-01-15T00:00:00Z"))).toBeNull();
    // Public leaves have expired: the same chain judged today is refused on the leaf's date.
    expect(checkValidity(verdict, Date.parse("2026-07-01T00:00:00Z"))).toMatchObject({ code: "CERT_EXPIRED", certIndex: 0 });
  });

  it("refuses the v5 e-CNPJ certificate, though it carries clientAuth: its path does not reach root v10, and the reason names its hierarchy", () => {
    const presented = [certificateDer(join(LEAVES, "ecnpj-a1-valid-rfb-v5.der")), der("AC_VALID_RFB_v5.crt"), der("AC_Secretaria_da_Receita_Federal_do_Brasil_v4.crt")];
    expect(parseCertInfo(presented[0]!).extendedKeyUsage).toContain("1.3.6.1.5.5.7.3.2");
    const opensslError = verifyPath(presented, transportAnchors);
    expect(opensslError).toBe("UNABLE_TO_GET_ISSUER_CERT_LOCALLY");
    // Its top certificate names root v5 as issuer: the refusal says which hierarchy it belongs to.
    expect(policy(presented, opensslError)).toMatchObject({ ok: false, code: "CERT_HIERARCHY_NOT_TRANSPORT", rule: "transport-hierarchy", certIndex: 2, detail: expect.stringContaining("root v5") });
    // Sent with root v5 itself (a self-signed certificate in the chain), the same reason.
    const withRoot = [...presented, der("ICP-Brasilv5.crt")];
    expect(verifyPath(withRoot, transportAnchors)).toBe("SELF_SIGNED_CERT_IN_CHAIN");
    expect(policy(withRoot, "SELF_SIGNED_CERT_IN_CHAIN")).toMatchObject({ ok: false, code: "CERT_HIERARCHY_NOT_TRANSPORT", certIndex: 3 });
    // A chain whose top is issued by an AC, not by a named root, keeps OpenSSL's reason.
    const leafAlone = [certificateDer(join(LEAVES, "brcac-soluti-ssl-ev-g4.pem"))];
    expect(policy(leafAlone, "UNABLE_TO_GET_ISSUER_CERT_LOCALLY")).toMatchObject({ ok: false, code: "CERT_CHAIN_INCOMPLETE" });
  });

  it("refuses the v5 e-CNPJ certificate with CERT_HIERARCHY_NOT_TRANSPORT when every ICP-Brasil root is an anchor", () => {
    const everyRoot = loadTrustAnchors(
      ["ICP-Brasilv5.crt", "ICP-Brasilv10.crt", "ICP-Brasilv11.crt", "ICP-Brasilv12.crt"].map((entry) => ({ source: entry, text: pem(der(entry)) })),
    );
    const presented = [certificateDer(join(LEAVES, "ecnpj-a1-valid-rfb-v5.der")), der("AC_VALID_RFB_v5.crt"), der("AC_Secretaria_da_Receita_Federal_do_Brasil_v4.crt")];
    const at = Date.parse("2025-12-01T00:00:00Z");
    const opensslError = verifyPath(presented, everyRoot);
    expect(opensslError).toBeNull();
    const verdict = createChainPolicy({ anchors: everyRoot, minRsaBits: 2048, requireIntermediate: true, transportRoots: V10, now: () => at })(presented, opensslError);
    expect(verdict).toMatchObject({ ok: false, code: "CERT_HIERARCHY_NOT_TRANSPORT", certIndex: 3 });
    // The same transport leaves stay accepted with every root loaded.
    const soluti = [certificateDer(join(LEAVES, "brcac-soluti-ssl-ev-g4.pem")), der("AC-SOLUTI-SSL-EV-G4.crt")];
    expect(createChainPolicy({ anchors: everyRoot, minRsaBits: 2048, requireIntermediate: true, transportRoots: V10, now: () => at })(soluti, verifyPath(soluti, everyRoot))).toMatchObject({ ok: true });
  });
});
