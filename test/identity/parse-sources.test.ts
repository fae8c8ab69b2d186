import type { webcrypto } from "node:crypto";
import { X509Certificate } from "node:crypto";
import { GeneralName } from "@peculiar/asn1-x509";
import { beforeAll, describe, expect, it } from "vitest";
import { ICP_BRASIL_OTHER_NAME, parseIdentity } from "../../src/identity/index.js";
import { OID, generateKeys, hex, issueLeaf, nameDer, otherName, sanExtension, stringDer, type Attribute } from "./certificates.js";

const ORG = "d7384bd0-842f-43c5-be02-9d2b2d5efc2c";
const UID = "bc97b8f0-2e5d-4c1a-9f3b-7a6e5d4c3b2a";
const OFB = { allowOpenInsurance: false } as const;
const RESPONSIBLE_DATA = "15071980" + "12345678909" + "00000000000" + "0000000X1234567" + "PCDF-DF";

// Chicago Advisory Partners (the OFB certificate standard ID2's example subject) without serialNumber, so the CNPJ must come from the SAN.
const subjectWithoutSerial: Attribute[] = [
  [OID.C, "BR", "printableString"],
  [OID.O, "Chicago Advisory Partners"],
  [OID.organizationIdentifier, `OFBBR-${ORG}`],
  [OID.UID, UID],
  [OID.CN, "web.conftpp.directory.openbankingbrasil.org.br"],
];

let keys: webcrypto.CryptoKeyPair;
beforeAll(async () => {
  keys = await generateKeys();
});

function withSan(subjectAltNames: GeneralName[], subject = subjectWithoutSerial) {
  return issueLeaf(keys, { subject: nameDer(subject), subjectAltNames });
}

/** Replaces one byte sequence in a certificate: signatures are not checked by identity parsing. */
function patch(der: Uint8Array, from: Uint8Array, to: Uint8Array): Uint8Array {
  const at = Buffer.from(der).indexOf(Buffer.from(from));
  if (at < 0 || from.length !== to.length) throw new Error("patch target not found");
  const copy = Uint8Array.from(der);
  copy.set(to, at);
  return copy;
}

const rfc822 = new GeneralName({ rfc822Name: "pki@conftpp.example" });
const dns = new GeneralName({ dNSName: "web.conftpp.directory.openbankingbrasil.org.br" });

describe("parseIdentity: CNPJ from otherName 2.16.76.1.3.3 when there is no serialNumber", () => {
  it.each([
    ["OCTET STRING", 0x04],
    ["PrintableString", 0x13],
    ["UTF8String", 0x0c],
  ])("reads a %s value among rfc822Name and dNSName entries", async (_type, tag) => {
    const cnpj = otherName(ICP_BRASIL_OTHER_NAME.cnpj, stringDer(tag, "43142666000197"));
    for (const order of [[cnpj, rfc822, dns], [rfc822, dns, cnpj], [dns, cnpj, rfc822]]) {
      const result = parseIdentity(await withSan(order), OFB);
      expect(result).toMatchObject({ ok: true, identity: { cnpj: "43142666000197", dnsNames: [dns.dNSName] } });
    }
  });

  it("returns every ICP-Brasil otherName, with a 52-character 2.16.76.1.3.4 holding an alphanumeric RG", async () => {
    const result = parseIdentity(
      await withSan([
        otherName(ICP_BRASIL_OTHER_NAME.companyName, stringDer(0x04, "CHICAGO ADVISORY PARTNERS LTDA")),
        otherName(ICP_BRASIL_OTHER_NAME.cnpj, stringDer(0x04, "12ABC34501DE35")),
        rfc822,
        otherName(ICP_BRASIL_OTHER_NAME.responsibleName, stringDer(0x13, "FULANO DE TAL")),
        otherName(ICP_BRASIL_OTHER_NAME.responsibleData, stringDer(0x04, `${RESPONSIBLE_DATA} `)),
        dns,
      ]),
      OFB,
    );
    expect(result).toMatchObject({
      ok: true,
      identity: {
        cnpj: "12ABC34501DE35",
        otherNames: {
          cnpj: "12ABC34501DE35",
          responsibleName: "FULANO DE TAL",
          responsibleData: RESPONSIBLE_DATA,
          cei: null,
          companyName: "CHICAGO ADVISORY PARTNERS LTDA",
        },
      },
    });
  });

  it("flags an otherName CNPJ with wrong check digits by default, and refuses it with policy.cnpj refuse, naming the source", async () => {
    const der = await withSan([otherName(ICP_BRASIL_OTHER_NAME.cnpj, stringDer(0x04, "43142666000198"))]);
    expect(parseIdentity(der, OFB)).toMatchObject({ ok: true, identity: { cnpj: "43142666000198", cnpjVerified: false } });
    const result = parseIdentity(der, { ...OFB, cnpj: "refuse" });
    expect(result).toMatchObject({ ok: false, code: "IDENTITY_CNPJ_INVALID" });
    expect(!result.ok && result.detail).toContain("otherName 2.16.76.1.3.3");
  });

  it("prefers serialNumber over the otherName", async () => {
    const subject: Attribute[] = [...subjectWithoutSerial, [OID.serialNumber, "11222333000181", "printableString"]];
    const result = parseIdentity(await withSan([otherName(ICP_BRASIL_OTHER_NAME.cnpj, stringDer(0x04, "43142666000197"))], subject), OFB);
    expect(result).toMatchObject({ ok: true, identity: { cnpj: "11222333000181", otherNames: { cnpj: "43142666000197" } } });
  });

  it("leaves cnpj null when neither source is present", async () => {
    expect(parseIdentity(await withSan([dns]), OFB)).toMatchObject({ ok: true, identity: { cnpj: null, cnpjVerified: false, otherNames: null } });
    expect(parseIdentity(await issueLeaf(keys, { subject: nameDer(subjectWithoutSerial) }), OFB)).toMatchObject({
      ok: true,
      identity: { cnpj: null, dnsNames: [], uris: [], otherNames: null },
    });
  });

  it("fails closed on two different otherName CNPJs", async () => {
    const result = parseIdentity(
      await withSan([
        otherName(ICP_BRASIL_OTHER_NAME.cnpj, stringDer(0x04, "43142666000197")),
        otherName(ICP_BRASIL_OTHER_NAME.cnpj, stringDer(0x04, "11222333000181")),
      ]),
      OFB,
    );
    expect(result).toMatchObject({ ok: false, code: "CERT_MALFORMED" });
  });
});

describe("parseIdentity: malformed certificates", () => {
  it("rejects bytes that are not a certificate as CERT_MALFORMED", async () => {
    const der = await withSan([dns]);
    for (const bytes of [new Uint8Array(), hex("00"), hex("3082ffff"), der.subarray(0, der.length - 10), nameDer(subjectWithoutSerial)]) {
      expect(parseIdentity(bytes, OFB)).toMatchObject({ ok: false, code: "CERT_MALFORMED" });
    }
  });

  it("rejects a certificate followed by trailing bytes", async () => {
    const der = await withSan([dns]);
    expect(parseIdentity(Uint8Array.of(...der, 0x00), OFB)).toMatchObject({ ok: false, code: "CERT_MALFORMED" });
  });

  it("rejects a UID that is not valid UTF-8 instead of treating it as absent", async () => {
    const der = await issueLeaf(keys, { subject: nameDer([...subjectWithoutSerial, [OID.UID, "ZZ"]]) });
    const patched = patch(der, hex("0C025A5A"), hex("0C02FF41"));
    expect(parseIdentity(patched, OFB)).toMatchObject({ ok: false, code: "CERT_MALFORMED" });
  });

  it("reads a UniversalString outside the BMP from the certificate's own bytes", async () => {
    const der = await issueLeaf(keys, { subject: nameDer([...subjectWithoutSerial, [OID.L, "ZZZZ", "universalString"]]) });
    const patched = patch(der, hex("1C100000005A0000005A0000005A0000005A"), hex("1C100001F6000000005A0000005A0000005A"));
    const result = parseIdentity(patched, OFB);
    expect(result.ok && result.identity.subjectDn).toContain("L=\u{1F600}ZZZ");
  });

  it("rejects two subjectAltName extensions (RFC 5280 §4.2)", async () => {
    const der = await withSan([dns]);
    const twice = await issueLeaf(keys, { subject: nameDer(subjectWithoutSerial), extensions: [sanExtension([dns]), sanExtension([dns])] });
    expect(parseIdentity(der, OFB).ok).toBe(true);
    expect(parseIdentity(twice, OFB)).toMatchObject({ ok: false, code: "CERT_MALFORMED" });
  });

  it("reads the serial number of a negative INTEGER as Node prints it", async () => {
    const der = await issueLeaf(keys, { subject: nameDer(subjectWithoutSerial), serialNumber: "7eaa" });
    const patched = patch(der, hex("02027EAA"), hex("0202FEAA"));
    const result = parseIdentity(patched, OFB);
    expect(result.ok && result.identity.serialNumber).toBe(new X509Certificate(patched).serialNumber);
  });
});
