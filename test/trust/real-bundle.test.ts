import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { isIssuedBy } from "../../src/pki/certificate.js";
import { checkSha512, parseSha512File, readZipEntries } from "../../src/trust/iti-zip.js";
import { ICP_BRASIL_PINS } from "../../src/pki/icp-brasil-roots.js";
import { selectTrusted, type Selection } from "../../src/trust/select.js";
import { selectTransport } from "../../src/trust/transport.js";
import { DEFAULT_TRUST_LIMITS } from "../../src/trust/build.js";
import {
  BUNDLE_2026,
  BUNDLE_2026_AT,
  HASH_2020,
  ROOT_V10_SHA256,
  ROOT_V7_SHA256,
  SERVER_ONLY_2026,
  TRANSPORT_2026,
  WITHDRAWN,
  ZIP_2020,
  decodeAll,
  folderEntries,
} from "./real-fixtures.js";

const transportOf = (selection: Selection) => selectTransport(selection.trusted, ICP_BRASIL_PINS.transportRoots);

describe("trust selection on the real ITI bundle of 2026-06-25 (173 certificates), judged at 2026-07-01", () => {
  const candidates = decodeAll(folderEntries(BUNDLE_2026));
  const selection = selectTrusted(candidates, ICP_BRASIL_PINS, BUNDLE_2026_AT);
  const { bundle, excluded } = transportOf(selection);

  it("keeps exactly root v10 and the v10 SSL ACs whose extendedKeyUsage allows clientAuth or is absent", () => {
    expect(candidates).toHaveLength(173);
    expect(bundle.map((t) => [t.cert.entry, t.cert.info.label, t.cert.sha256])).toEqual(TRANSPORT_2026);
    expect(bundle.map((t) => [t.root, t.depth])).toEqual([["v10", 0], ...Array.from({ length: 7 }, () => ["v10", 1])]);
  });

  it("excludes the serverAuth-only v10 ACs and every certificate of the v5, v6, v11 and v12 hierarchies", () => {
    expect(excluded.filter((e) => e.code === "EKU_WITHOUT_CLIENT_AUTH").map((e) => [e.trusted.cert.entry, e.trusted.cert.sha256])).toEqual(SERVER_ONLY_2026);
    const other = excluded.filter((e) => e.code === "OTHER_ROOT");
    // Everything trusted outside v10 is OTHER_ROOT, one by one: nothing of v5/v12 reaches the transport store.
    expect(other.map((e) => e.trusted.cert.sha256).sort()).toEqual(selection.trusted.filter((t) => t.root !== "v10").map((t) => t.cert.sha256).sort());
    const perRoot = Object.fromEntries(["v5", "v6", "v11", "v12"].map((root) => [root, other.filter((e) => e.trusted.root === root).length]));
    expect(perRoot).toEqual({ v5: 140, v6: 4, v11: 1, v12: 17 });
    expect(excluded.map((e) => e.code).filter((c) => c !== "OTHER_ROOT" && c !== "EKU_WITHOUT_CLIENT_AUTH")).toEqual([]);
    expect(other.find((e) => e.trusted.cert.entry === "ICP-Brasilv5.crt")?.reason).toBe("chains to root v5, not a transport root (v10)");
  });

  it("skips root v7, whose key nothing can decode, without failing the load; nothing else is left over", () => {
    expect(selection.rejected.map((r) => [r.cert.entry, r.code, r.cert.sha256])).toEqual([["ICP-Brasilv7.crt", "KEY_UNDECODABLE", ROOT_V7_SHA256]]);
    expect(selection.rejected[0]!.reason).toMatch(/^pinned root v7: public key 1\.3\.6\.1\.4\.1\.44588\.2\.1 cannot be decoded/);
    expect(selection.missing.map((p) => p.name)).toEqual(["v7"]);
    expect(selection.retired).toEqual([]);
    expect(bundle.length + excluded.length + selection.rejected.length).toBe(173);
  });

  it("chains AC SAFEWEB CD V12, whose issuer field is PrintableString where AC Safeweb v12's subject is UTF8String, to root v12", () => {
    const find = (entry: string) => candidates.find((c) => c.entry === entry)!;
    const cd = find("AC_SAFEWEB_CD_V12.crt");
    const issuer = find("AC_Safeweb_v12.crt");
    // The bytes differ (PrintableString 0x13 against UTF8String 0x0c), so a byte comparison finds no issuer.
    expect(Buffer.from(cd.info!.issuerDer).equals(Buffer.from(issuer.info!.subjectDer))).toBe(false);
    expect(Buffer.from(cd.info!.issuerDer).toString("hex")).toContain("130e4143205361666577656220763132");
    expect(Buffer.from(issuer.info!.subjectDer).toString("hex")).toContain("0c0e4143205361666577656220763132");
    expect(isIssuedBy(cd.info!, issuer.info!)).toBe(true);
    const trusted = selection.trusted.find((t) => t.cert.entry === "AC_SAFEWEB_CD_V12.crt")!;
    expect([trusted.root, trusted.depth, trusted.issuer?.cert.entry]).toEqual(["v12", 2, "AC_Safeweb_v12.crt"]);
    expect(excluded.find((e) => e.trusted === trusted)?.code).toBe("OTHER_ROOT");
  });
});

describe("trust selection on certificates ITI withdrew", () => {
  it("reports the retired roots v1, v2, v4 and v13 by fingerprint and skips the explicit-parameter AC MRE v1", () => {
    const selection = selectTrusted(decodeAll(folderEntries(WITHDRAWN)), ICP_BRASIL_PINS, BUNDLE_2026_AT);
    expect(selection.retired.map((r) => [r.cert.entry, r.pin.name, r.cert.sha256])).toEqual([
      ["ICP-Brasil.crt", "v1", "cbd8ed38d4a2d677d453d70dd8890af4f6374cba6299943f1ab3a6936c6fd795"],
      ["ICP-Brasilv13.crt", "v13", "2b07d0bc02c4a6e0478ed22d0d99e8f97e1827b269097696a7feb6aad30c3ac8"],
      ["ICP-Brasilv2.crt", "v2", "fb47d92a9909fd4fa9bec02737543e1f3514ced747407a8d9cfa397b0915067c"],
      ["ICP-Brasilv4.crt", "v4", "f0c15afd258fb674e7a96e1a50ff873149364b9ec70d4d93c7a9f1eb6060d020"],
    ]);
    expect(selection.trusted).toEqual([]);
    expect(selection.rejected.map((r) => [r.cert.entry, r.code, r.reason])).toEqual([
      ["AC-MRE-V1.crt", "EXPLICIT_EC_PARAMETERS", "EC public key with explicit curve parameters (OpenSSL verify error 94)"],
      ["AC-SERASA-SSL-EV-V2.crt", "NO_PINNED_PATH", "its issuer is not in the source"],
      ["AC-SERASA-SSL-EV-V3.crt", "NO_PINNED_PATH", "its issuer is not in the source"],
      ["AC-SERASA-SSL-EV-V4.crt", "NO_PINNED_PATH", "its issuer is not in the source"],
    ]);
  });
});

describe("trust selection on the real ITI zip of 2020-01-09", () => {
  const zip = new Uint8Array(readFileSync(ZIP_2020));

  it("matches the SHA-512 ITI published for it", () => {
    const expected = parseSha512File(readFileSync(HASH_2020, "utf8"), "ACcompactado.zip", HASH_2020);
    expect(checkSha512(zip, expected, ZIP_2020, HASH_2020)).toBe(createHash("sha512").update(zip).digest("hex"));
  });

  it("keeps root v10 alone (its only v10 AC is serverAuth-only) and reports the retired roots v1 and v2", () => {
    const { entries, skipped } = readZipEntries(zip, DEFAULT_TRUST_LIMITS, ZIP_2020);
    expect([entries.length, skipped]).toEqual([156, []]);
    const selection = selectTrusted(decodeAll(entries), ICP_BRASIL_PINS, new Date("2020-06-01T00:00:00Z"));
    const { bundle, excluded } = transportOf(selection);
    expect(bundle.map((t) => [t.cert.entry, t.cert.sha256])).toEqual([["ICP-Brasilv10.crt", ROOT_V10_SHA256]]);
    expect(excluded.filter((e) => e.code !== "OTHER_ROOT").map((e) => [e.trusted.cert.entry, e.code, e.trusted.cert.sha256])).toEqual([
      ["AC-SERPRO-SSL-v10.crt", "EKU_WITHOUT_CLIENT_AUTH", "6ef040e36483e5ee9ef3e09a840ac4ccbe3d2333e474a7a8488ecdac6b7758d7"],
    ]);
    expect(selection.retired.map((r) => [r.cert.entry, r.pin.name])).toEqual([["ICP-Brasil.crt", "v1"], ["ICP-Brasilv2.crt", "v2"]]);
    expect(selection.missing.map((p) => p.name)).toEqual(["v6", "v7", "v12"]);
    // The v2 hierarchy is not chained to any pinned root: its ACs are reported, never kept.
    const underV2 = selection.rejected.filter((r) => r.reason === "issuer Autoridade Certificadora Raiz Brasileira v2 is retired root v2");
    expect(underV2.map((r) => r.cert.entry)).toContain("AC_Secretaria_da_Receita_Federal_do_Brasil_v3.crt");
  });
});
