import * as x509 from "@peculiar/x509";
import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { certificateFacts } from "../../src/revocation/certificate-facts.js";
import { CrlError, crlDers, crlIssuerDer, parseCrl, revokedEntry, type ParsedCrl } from "../../src/revocation/crl.js";
import { serialHash } from "../../src/revocation/serial-index.js";
import { publicKeyOf, verifyCrl } from "../../src/revocation/signature.js";
import { testPki } from "../helpers/edge.js";
import { HOUR, revocationPki, serialOf, signCrl, type RevocationPki } from "./fixtures.js";

let p: RevocationPki;
const thisUpdate = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
const nextUpdate = new Date(thisUpdate.getTime() + HOUR);

beforeAll(async () => {
  p = await revocationPki(await testPki());
});

/** The entry offset for a serial written as @peculiar/x509 hex (leading 00 bytes are sign padding). */
function find(crl: ParsedCrl, hex: string): number | undefined {
  const bytes = Buffer.from(hex.replace(/^(00)+(?=..)/, ""), "hex");
  return crl.revoked.find(bytes, serialHash(bytes));
}

describe("CRL parsing (RFC 5280 §5)", () => {
  it("indexes every serial @peculiar/x509 reads, finds nothing else, and decodes a found entry's date and reason", async () => {
    // Random lengths (first byte non-zero, the high bit set in about half: DER adds a 00 pad), plus sign
    // padding written out, a zero, small and long serials; each integer once.
    const serials = Array.from({ length: 1500 }, (_, i) => randomBytes(1 + (i % 20)).toString("hex").replace(/^00/, "01"));
    serials.push("00ff", "00", "80", "7fabcdef0123456789", "01");
    const byValue = new Map(serials.map((hex) => [hex.replace(/^(00)+(?=..)/, ""), hex] as const));
    byValue.delete("0a0b0c");
    const unique = [...byValue.values()];
    const revoked: { serial: string; reason?: x509.X509CrlReason; at?: Date }[] = unique.map((serial, i) => (i % 3 === 0 ? { serial, reason: x509.X509CrlReason.keyCompromise } : { serial }));
    revoked.push({ serial: "0a0b0c", reason: x509.X509CrlReason.cessationOfOperation, at: new Date("2024-05-06T07:08:09Z") });
    const der = await signCrl(p.sslAc, { revoked, thisUpdate, nextUpdate });
    const crl = await parseCrl(der);
    const reference = new x509.X509Crl(der, { berOptions: { maxNodes: 100_000 } });
    expect(crl.revoked.size).toBe(reference.entries.length);
    for (const entry of reference.entries) expect(find(crl, entry.serialNumber), entry.serialNumber).toBeDefined();
    for (let i = 0; i < 2000; i++) {
      const absent = randomBytes(21).toString("hex");
      expect(find(crl, absent)).toBeUndefined();
    }
    expect(crl.thisUpdate).toBe(thisUpdate.getTime());
    expect(crl.nextUpdate).toBe(nextUpdate.getTime());
    expect(revokedEntry(crl, find(crl, "0a0b0c")!)).toEqual({ revokedAt: new Date("2024-05-06T07:08:09Z"), reason: "cessationOfOperation" });
    expect(revokedEntry(crl, find(crl, unique[1]!)!).reason).toBe("unspecified");
    // 0x00ff is the positive integer 255 however it is written.
    expect(find(crl, "ff")).toBe(find(crl, "00ff"));
  });

  it("reads a certificate's serial as the index looks it up, and its distribution points", async () => {
    const facts = certificateFacts(p.sslAcInfo.der);
    expect(Buffer.from(facts.serial).toString("hex")).toBe(serialOf(p.sslAcInfo).toLowerCase().replace(/^(00)+(?=..)/, ""));
    expect(facts.serialHash).toBe(serialHash(facts.serial));
    expect(facts.crlUrls).toEqual(["http://127.0.0.1:8480/crl/root.crl"]);
    expect(certificateFacts(p.rootInfo.der).crlUrls).toEqual([]);
    const crl = await parseCrl(await signCrl(p.root, { revoked: [{ serial: serialOf(p.sslAcInfo) }], thisUpdate, nextUpdate }));
    expect(crl.revoked.find(facts.serial, facts.serialHash)).toBeDefined();
  });

  it("verifies the signature with the issuing AC's key and refuses another key or another issuer", async () => {
    const good = await parseCrl(await signCrl(p.sslAc, { thisUpdate, nextUpdate }));
    await expect(verifyCrl(good, p.sslAcInfo, publicKeyOf(p.sslAcInfo))).resolves.toBeUndefined();
    const forged = await parseCrl(await signCrl(p.sslAc, { thisUpdate, nextUpdate, signWith: p.otherAc }));
    await expect(verifyCrl(forged, p.sslAcInfo, publicKeyOf(p.sslAcInfo))).rejects.toThrow(/signature does not verify/);
    await expect(verifyCrl(good, p.rootInfo, publicKeyOf(p.rootInfo))).rejects.toThrow(/issuer is not/);
  });

  it("refuses a truncated CRL, trailing bytes, a non-CRL body and a CRL without nextUpdate", async () => {
    const der = await signCrl(p.sslAc, { revoked: [{ serial: "01" }], thisUpdate, nextUpdate });
    for (const cut of [1, 10, der.length / 2, der.length - 1]) await expect(parseCrl(der.subarray(0, Math.floor(cut)))).rejects.toThrow(CrlError);
    await expect(parseCrl(Uint8Array.from([...der, 0]))).rejects.toThrow(/after the CertificateList/);
    await expect(parseCrl(new TextEncoder().encode("<html>not found</html>"))).rejects.toThrow(CrlError);
    await expect(parseCrl(await signCrl(p.sslAc, { thisUpdate, nextUpdate: null }))).rejects.toThrow(/no nextUpdate/);
  });

  it("refuses a delta CRL and a CRL with an unknown critical extension (RFC 5280 §5.2)", async () => {
    const delta = new x509.Extension("2.5.29.27", true, Uint8Array.of(0x02, 0x01, 0x05));
    await expect(parseCrl(await signCrl(p.sslAc, { thisUpdate, nextUpdate, extensions: [delta] }))).rejects.toThrow(/delta CRL/);
    const unknown = new x509.Extension("1.3.6.1.4.1.55555.9", true, Uint8Array.of(0x05, 0x00));
    await expect(parseCrl(await signCrl(p.sslAc, { thisUpdate, nextUpdate, extensions: [unknown] }))).rejects.toThrow(/critical CRL extension/);
    const number = new x509.Extension("2.5.29.20", false, Uint8Array.of(0x02, 0x01, 0x07));
    expect((await parseCrl(await signCrl(p.sslAc, { thisUpdate, nextUpdate, extensions: [number] }))).revoked.size).toBe(0);
  });

  it("skips removeFromCRL entries and accepts a PEM body", async () => {
    const der = await signCrl(p.sslAc, { revoked: [{ serial: "0a", reason: x509.X509CrlReason.removeFromCRL }, { serial: "0b" }], thisUpdate, nextUpdate });
    const crl = await parseCrl(der);
    expect([crl.revoked.size, find(crl, "0a"), find(crl, "0b") !== undefined]).toEqual([1, undefined, true]);
    const pem = new TextEncoder().encode(x509.PemConverter.encode(der.buffer as ArrayBuffer, "X509 CRL"));
    expect(crlDers(pem).map((d) => Buffer.compare(d, der))).toEqual([0]);
  });

  it("reads every CRL of a PEM file (LF or CRLF, text around the blocks) and each one's issuer without parsing it", async () => {
    const [ac, root] = await Promise.all([signCrl(p.sslAc, { thisUpdate, nextUpdate }), signCrl(p.root, { thisUpdate, nextUpdate })]);
    const pem = (der: Uint8Array) => x509.PemConverter.encode(der.slice().buffer as ArrayBuffer, "X509 CRL");
    for (const eol of ["\n", "\r\n"]) {
      const text = `Certificate Revocation List (CRL):${eol}${pem(ac).replace(/\n/g, eol)}${eol}# root${eol}${pem(root).replace(/\n/g, eol)}${eol}`;
      const ders = crlDers(new TextEncoder().encode(text));
      expect(ders.map((d) => Buffer.from(d).toString("hex"))).toEqual([Buffer.from(ac).toString("hex"), Buffer.from(root).toString("hex")]);
      expect(ders.map((d) => Buffer.compare(crlIssuerDer(d), (d === ders[0] ? p.sslAcInfo : p.rootInfo).subjectDer))).toEqual([0, 0]);
    }
    expect(() => crlDers(new TextEncoder().encode("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))).toThrow(/neither DER nor a PEM X509 CRL/);
    expect(() => crlIssuerDer(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x01))).toThrow(CrlError);
  });
});
