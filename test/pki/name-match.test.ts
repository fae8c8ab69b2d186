import { AsnConvert } from "@peculiar/asn1-schema";
import { AttributeTypeAndValue, AttributeValue, Name, RelativeDistinguishedName } from "@peculiar/asn1-x509";
import { describe, expect, it } from "vitest";
import { isIssuedBy, isSelfIssued, parseCertInfo } from "../../src/pki/certificate.js";
import { nameKey, namesMatch } from "../../src/pki/name-match.js";
import { signTestCrl } from "../../src/pki/test-pki/crl.js";
import { parseCrl } from "../../src/revocation/crl.js";
import { publicKeyOf, verifyCrl } from "../../src/revocation/signature.js";
import { caName, createTestCa, encodeName, issueClientCertificate, OID, type TypedAttribute } from "../../src/pki/test-pki/index.js";

type Value = ConstructorParameters<typeof AttributeValue>[0];

/** A Name from RDNs of [type, value] pairs, each value in the string type given (DER order). */
function name(...rdns: (readonly [string, Value])[][]): Uint8Array {
  const der = AsnConvert.serialize(
    new Name(rdns.map((rdn) => new RelativeDistinguishedName(rdn.map(([type, value]) => new AttributeTypeAndValue({ type, value: new AttributeValue(value) }))))),
  );
  return new Uint8Array(der);
}
const utf8 = (text: string) => ({ utf8String: text });
const printable = (text: string) => ({ printableString: text });
const bmp = (text: string) => ({ bmpString: text });

describe("RFC 5280 §7.1 name comparison (LDAP StringPrep, RFC 4518)", () => {
  it("matches the same text in PrintableString and UTF8String (and BMPString), which byte comparison misses", () => {
    const asUtf8 = name([[OID.countryName, printable("BR")]], [[OID.organizationName, utf8("ICP-Brasil")]], [[OID.commonName, utf8("AC SOLUTI SSL EV G4")]]);
    const asPrintable = name([[OID.countryName, printable("BR")]], [[OID.organizationName, printable("ICP-Brasil")]], [[OID.commonName, printable("AC SOLUTI SSL EV G4")]]);
    const asBmp = name([[OID.countryName, printable("BR")]], [[OID.organizationName, bmp("ICP-Brasil")]], [[OID.commonName, bmp("AC SOLUTI SSL EV G4")]]);
    expect(Buffer.compare(asUtf8, asPrintable)).not.toBe(0);
    expect(namesMatch(asUtf8, asPrintable)).toBe(true);
    expect(namesMatch(asUtf8, asBmp)).toBe(true);
  });

  it("ignores case, leading, trailing and repeated inner spaces, soft hyphens and compatibility forms", () => {
    const base = name([[OID.commonName, utf8("Autoridade Certificadora Raiz Brasileira v10")]]);
    expect(namesMatch(base, name([[OID.commonName, printable("  AUTORIDADE certificadora   Raiz Brasileira V10 ")]]))).toBe(true);
    expect(namesMatch(base, name([[OID.commonName, utf8("Autoridade\u00a0Certificadora Raiz Bra\u00adsileira v10")]]))).toBe(true);
    expect(namesMatch(name([[OID.commonName, utf8("Certiﬁcadora")]]), name([[OID.commonName, utf8("Certificadora")]]))).toBe(true);
    expect(namesMatch(name([[OID.localityName, utf8("São Paulo")]]), name([[OID.localityName, utf8("SA\u0303O PAULO")]]))).toBe(true);
  });

  it("keeps every difference that matters: a value, an attribute type, RDN order and RDN count", () => {
    const a = name([[OID.countryName, printable("BR")]], [[OID.commonName, utf8("AC X")]]);
    expect(namesMatch(a, name([[OID.countryName, printable("BR")]], [[OID.commonName, utf8("AC Y")]]))).toBe(false);
    expect(namesMatch(a, name([[OID.countryName, printable("BR")]], [[OID.organizationName, utf8("AC X")]]))).toBe(false);
    expect(namesMatch(a, name([[OID.commonName, utf8("AC X")]], [[OID.countryName, printable("BR")]]))).toBe(false);
    expect(namesMatch(a, name([[OID.countryName, printable("BR")]]))).toBe(false);
    expect(namesMatch(name([[OID.commonName, utf8("a b")]]), name([[OID.commonName, utf8("ab")]]))).toBe(false);
  });

  it("compares a multi-valued RDN as a set", () => {
    const one = name([[OID.organizationName, utf8("Banco")], [OID.organizationalUnitName, utf8("TI")]]);
    const other = name([[OID.organizationalUnitName, printable("ti")], [OID.organizationName, printable("BANCO")]]);
    expect(namesMatch(one, other)).toBe(true);
  });

  it("compares values that are not strings, and strings with prohibited code points, byte for byte only", () => {
    const octets = (bytes: number[]) => name([[OID.commonName, { anyValue: new Uint8Array([0x04, bytes.length, ...bytes]).buffer }]]);
    expect(namesMatch(octets([0x41]), octets([0x41]))).toBe(true);
    expect(namesMatch(octets([0x41]), octets([0x61]))).toBe(false);
    const privateUse = name([[OID.commonName, utf8("AC \ue000")]]);
    expect(namesMatch(privateUse, name([[OID.commonName, printable("AC ")]]))).toBe(false);
    expect(namesMatch(privateUse, privateUse)).toBe(true);
  });

  it("never throws on bytes that are not a Name, and matches them only to themselves", () => {
    const junk = new Uint8Array([0x30, 0x05, 0x31, 0x01]);
    expect(() => nameKey(junk)).not.toThrow();
    expect(namesMatch(junk, new Uint8Array(junk))).toBe(true);
    expect(namesMatch(junk, name([[OID.commonName, utf8("x")]]))).toBe(false);
  });

  it("finds an AC whose subject is UTF8String as the issuer of a leaf whose issuer field is PrintableString", async () => {
    const subject: TypedAttribute[] = [
      { type: OID.countryName, value: "BR", encoding: "printable" },
      { type: OID.organizationName, value: "ICP-Brasil", encoding: "utf8" },
      { type: OID.commonName, value: "AC TESTE SSL EV G4", encoding: "utf8" },
    ];
    const root = await createTestCa({ subject: caName({ organization: "ICP-Brasil", commonName: "Raiz TESTE" }) });
    const ac = await createTestCa({ subject: encodeName(subject), issuer: root });
    const leaf = await issueClientCertificate(ac, {
      subject: encodeName([{ type: OID.commonName, value: "tpp.test", encoding: "utf8" }]),
      issuerName: encodeName(subject.map((a) => ({ ...a, encoding: "printable" as const }))),
    });
    const [leafInfo, acInfo, rootInfo] = [leaf.der, ac.der, root.der].map(parseCertInfo) as [ReturnType<typeof parseCertInfo>, ReturnType<typeof parseCertInfo>, ReturnType<typeof parseCertInfo>];
    expect(Buffer.compare(leafInfo.issuerDer, acInfo.subjectDer)).not.toBe(0);
    expect(isIssuedBy(leafInfo, acInfo)).toBe(true);
    expect(isIssuedBy(leafInfo, rootInfo)).toBe(false);
    expect(isSelfIssued(rootInfo)).toBe(true);
    expect(isSelfIssued(acInfo)).toBe(false);

    // RFC 5280 §6.3.3 (b)(1): the AC's CRL, its issuer field PrintableString too, is the AC's CRL.
    const printableIssuer = encodeName(subject.map((a) => ({ ...a, encoding: "printable" as const })));
    const crl = await parseCrl(await signTestCrl(ac, { thisUpdate: new Date(), nextUpdate: new Date(Date.now() + 3_600_000), issuerName: printableIssuer }));
    await expect(verifyCrl(crl, acInfo, publicKeyOf(acInfo))).resolves.toBeUndefined();
    const other = await parseCrl(await signTestCrl(ac, { thisUpdate: new Date(), issuerName: encodeName([{ type: OID.commonName, value: "AC OUTRA", encoding: "utf8" }]), nextUpdate: new Date(Date.now() + 3_600_000) }));
    await expect(verifyCrl(other, acInfo, publicKeyOf(acInfo))).rejects.toThrow(/issuer is not/);
  });
});
