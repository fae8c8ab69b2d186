import { AsnConvert } from "@peculiar/asn1-schema";
import { Name } from "@peculiar/asn1-x509";
import { describe, expect, it } from "vitest";
import { EdgeError } from "../../src/errors.js";
import { attributeValues, formatDn, readName } from "../../src/identity/index.js";
import { OID, hex, nameDer, rawNameDer, tlv, type Attribute, type Rdn } from "./certificates.js";

const XP_ORG = "OFBBR-79717d71-0cf4-58f6-b2d0-370d5404d383";
const XP_UID = "9a4c69f8-3ed6-4641-87de-9354bb8bb69a";
const XP_CN = "matls-banking-openfinance.rico.com.vc";

// The Banco XP BRCAC issued by AC Certisign ICP-Brasil SSL EV G4: OpenSSL prints the most specific RDN (CN) first, so DER order is the reverse.
const bancoXpRdns: readonly Attribute[] = [
  [OID.businessCategory, "Private Organization"],
  [OID.jurisdictionC, "BR", "printableString"],
  [OID.serialNumber, "33264668000103", "printableString"],
  [OID.C, "BR", "printableString"],
  [OID.O, "BANCO XP S A"],
  [OID.ST, "RJ"],
  [OID.L, "Rio de Janeiro"],
  [OID.organizationIdentifier, XP_ORG],
  [OID.UID, XP_UID],
  [OID.CN, XP_CN],
];

describe("formatDn on the real OFB subject DNs (Banco XP, Chicago Advisory Partners, Soluti, Nubank)", () => {
  it("writes Banco XP exactly as OpenSSL's RFC 2253 output", () => {
    expect(formatDn(nameDer(bancoXpRdns), "rfc4514")).toBe(
      `CN=${XP_CN},UID=${XP_UID},organizationIdentifier=${XP_ORG},L=Rio de Janeiro,ST=RJ,O=BANCO XP S A,C=BR,` +
        "serialNumber=33264668000103,jurisdictionC=BR,businessCategory=Private Organization",
    );
  });

  it("writes Banco XP in the OFB DCR form with the DER of non-standard attributes and their original tags", () => {
    expect(formatDn(nameDer(bancoXpRdns), "ofb")).toBe(
      `CN=${XP_CN},UID=${XP_UID},` +
        "2.5.4.97=#0C2A4F464242522D37393731376437312D306366342D353866362D623264302D333730643534303464333833," +
        "L=Rio de Janeiro,ST=RJ,O=BANCO XP S A,C=BR,2.5.4.5=#130E3333323634363638303030313033," +
        "1.3.6.1.4.1.311.60.2.1.3=#13024252,2.5.4.15=#0C1450726976617465204F7267616E697A6174696F6E",
    );
  });

  it("writes Banco XP as an OpenSSL oneline in DER order", () => {
    expect(formatDn(nameDer(bancoXpRdns), "oneline")).toBe(
      "/businessCategory=Private Organization/jurisdictionC=BR/serialNumber=33264668000103/C=BR/O=BANCO XP S A" +
        `/ST=RJ/L=Rio de Janeiro/organizationIdentifier=${XP_ORG}/UID=${XP_UID}/CN=${XP_CN}`,
    );
  });

  it("writes the Serpro reverse order as it is encoded and reads the same attributes by OID", () => {
    const serpro = nameDer(
      [...bancoXpRdns].reverse().map(([oid, value, type]) => (oid === OID.businessCategory ? [oid, "Business Entity", type] : [oid, value, type]) as Attribute),
    );
    expect(formatDn(serpro, "rfc4514")).toBe(
      "businessCategory=Business Entity,jurisdictionC=BR,serialNumber=33264668000103,C=BR,O=BANCO XP S A,ST=RJ," +
        `L=Rio de Janeiro,organizationIdentifier=${XP_ORG},UID=${XP_UID},CN=${XP_CN}`,
    );
    expect(attributeValues(serpro, OID.organizationIdentifier)).toEqual([XP_ORG]);
    expect(attributeValues(serpro, OID.UID)).toEqual(attributeValues(nameDer(bancoXpRdns), OID.UID));
  });

  it("writes the Soluti pre-2022 OU-style DN, escaping the / of S/A only in oneline", () => {
    const soluti = nameDer([
      [OID.C, "BR", "printableString"],
      [OID.O, "SOLUTI - SOLUCOES EM NEGOCIOS INTELIGENTES S/A"],
      [OID.ST, "GO"],
      [OID.L, "Goiania"],
      [OID.OU, "de2f3928-5b1a-4c6e-9d07-3f8a2b4c6d10"],
      [OID.serialNumber, "09461647000195", "printableString"],
      [OID.CN, "openbanking.acsoluti.com.br"],
      [OID.UID, "c01a9251-0b7e-4f3c-a2d4-6e8f0a1b2c3d"],
      [OID.businessCategory, "Private Organization"],
      [OID.jurisdictionC, "BR", "printableString"],
    ]);
    expect(formatDn(soluti, "rfc4514")).toBe(
      "jurisdictionC=BR,businessCategory=Private Organization,UID=c01a9251-0b7e-4f3c-a2d4-6e8f0a1b2c3d," +
        "CN=openbanking.acsoluti.com.br,serialNumber=09461647000195,OU=de2f3928-5b1a-4c6e-9d07-3f8a2b4c6d10," +
        "L=Goiania,ST=GO,O=SOLUTI - SOLUCOES EM NEGOCIOS INTELIGENTES S/A,C=BR",
    );
    expect(formatDn(soluti, "oneline")).toBe(
      "/C=BR/O=SOLUTI - SOLUCOES EM NEGOCIOS INTELIGENTES S\\/A/ST=GO/L=Goiania/OU=de2f3928-5b1a-4c6e-9d07-3f8a2b4c6d10" +
        "/serialNumber=09461647000195/CN=openbanking.acsoluti.com.br/UID=c01a9251-0b7e-4f3c-a2d4-6e8f0a1b2c3d" +
        "/businessCategory=Private Organization/jurisdictionC=BR",
    );
  });

  it("reproduces the Nubank OIDF form, PrintableString values as #13 and São Paulo kept as text", () => {
    const nubank = nameDer([
      [OID.C, "BR", "printableString"],
      [OID.ST, "SP"],
      [OID.L, "São Paulo"],
      [OID.O, "NU PAGAMENTOS S.A."],
      [OID.OU, "926e3037-a685-553c-afa3-f7cb46ff8084"],
      [OID.CN, "*.nubank.com.br"],
      [OID.serialNumber, "18236120000158", "printableString"],
      [OID.businessCategory, "Private Organization", "printableString"],
      [OID.jurisdictionC, "BR", "printableString"],
      [OID.UID, "812b577d-3c0e-4d5f-9a1b-2c3d4e5f6a7b"],
    ]);
    const ofb = formatDn(nubank, "ofb");
    expect(ofb).toBe(
      "UID=812b577d-3c0e-4d5f-9a1b-2c3d4e5f6a7b,1.3.6.1.4.1.311.60.2.1.3=#13024252," +
        "2.5.4.15=#131450726976617465204F7267616E697A6174696F6E,2.5.4.5=#130E3138323336313230303030313538," +
        "CN=*.nubank.com.br,OU=926e3037-a685-553c-afa3-f7cb46ff8084,O=NU PAGAMENTOS S.A.,L=São Paulo,ST=SP,C=BR",
    );
    expect(ofb.toLowerCase()).toContain("2.5.4.5=#130e3138323336313230303030313538,cn=*.nubank.com.br");
  });
});

describe("attributeValues reads any DirectoryString type by OID", () => {
  const types = ["utf8String", "printableString", "teletexString", "bmpString", "universalString", "ia5String"] as const;

  it.each(types)("decodes a %s", (type) => {
    expect(attributeValues(nameDer([[OID.L, "Sao Paulo", type]]), OID.L)).toEqual(["Sao Paulo"]);
  });

  it("decodes non-ASCII text in UTF8String and BMPString", () => {
    expect(attributeValues(nameDer([[OID.L, "São Paulo"]]), OID.L)).toEqual(["São Paulo"]);
    expect(attributeValues(nameDer([[OID.L, "São Paulo", "bmpString"]]), OID.L)).toEqual(["São Paulo"]);
  });

  it("decodes a UniversalString outside the BMP from its own bytes (asn1js reads it as UCS-2)", () => {
    const name = rawNameDer([[[OID.CN, hex("1C040001F600")]]]);
    expect(attributeValues(name, OID.CN)).toEqual(["\u{1F600}"]);
  });

  it("keeps the string tag in the OFB form: 0C for UTF8String, 13 PrintableString, 1E BMPString", () => {
    const dn = (type: Attribute[2]) => formatDn(nameDer([[OID.organizationIdentifier, "OFBBR-x", type]]), "ofb");
    expect(dn("utf8String")).toBe("2.5.4.97=#0C074F464242522D78");
    expect(dn("printableString")).toBe("2.5.4.97=#13074F464242522D78");
    expect(dn("bmpString")).toBe("2.5.4.97=#1E0E004F0046004200420052002D0078");
  });

  it("returns every value in DER order, including the members of a multi-valued RDN", () => {
    const name = nameDer([[OID.OU, "first"], [[OID.O, "Org"], [OID.OU, "second"]], [OID.CN, "host"]]);
    expect(attributeValues(name, OID.OU)).toEqual(["first", "second"]);
    expect(attributeValues(name, OID.UID)).toEqual([]);
  });

  it("fails closed with CERT_MALFORMED when a value of the OID is not decodable text", () => {
    const badUtf8 = rawNameDer([[[OID.UID, hex("0C02FF41")]]]);
    const nonAsciiPrintable = rawNameDer([[[OID.serialNumber, hex("1302E341")]]]);
    const integer = rawNameDer([[[OID.UID, hex("020105")]]]);
    for (const [name, oid] of [[badUtf8, OID.UID], [nonAsciiPrintable, OID.serialNumber], [integer, OID.UID]] as const) {
      expect(() => attributeValues(name, oid)).toThrowError(expect.objectContaining({ code: "CERT_MALFORMED" }));
    }
    expect(attributeValues(badUtf8, OID.CN)).toEqual([]);
  });

  it("accepts an @peculiar/asn1-x509 Name and a readName result as well as DER", () => {
    const der = nameDer(bancoXpRdns);
    const parsed = AsnConvert.parse(der, Name);
    expect(attributeValues(parsed, OID.UID)).toEqual([XP_UID]);
    expect(formatDn(parsed, "ofb")).toBe(formatDn(der, "ofb"));
    expect(formatDn(readName(der), "rfc4514")).toBe(formatDn(der, "rfc4514"));
  });

  it("throws CERT_MALFORMED for bytes that are not a Name", () => {
    expect(() => readName(hex("3003020101"))).toThrowError(EdgeError);
    expect(() => formatDn(hex("ff"), "rfc4514")).toThrowError(expect.objectContaining({ code: "CERT_MALFORMED" }));
    expect(() => formatDn(hex("300000"), "rfc4514")).toThrowError(expect.objectContaining({ code: "CERT_MALFORMED" }));
  });
});

describe("formatDn escaping: no value can read as structure", () => {
  const cn = (value: string, format: "rfc4514" | "ofb" | "oneline") => formatDn(nameDer([[OID.CN, value]]), format);

  it("escapes RFC 4514 §2.4 specials and =", () => {
    expect(cn('a,b+c"d\\e;f<g>h=i', "rfc4514")).toBe('CN=a\\,b\\+c\\"d\\\\e\\;f\\<g\\>h\\=i');
    expect(cn("x,CN=evil", "ofb")).toBe("CN=x\\,CN\\=evil");
  });

  it("escapes a leading # or space and a trailing space, not inner ones", () => {
    expect(cn("#start", "rfc4514")).toBe("CN=\\#start");
    expect(cn("mid#dle", "rfc4514")).toBe("CN=mid#dle");
    expect(cn("  two  ", "rfc4514")).toBe("CN=\\  two \\ ");
    expect(cn(" ", "rfc4514")).toBe("CN=\\ ");
  });

  it("writes control characters as UTF-8 hex: CR, LF, NUL, DEL and C1", () => {
    expect(cn("a\r\nb", "rfc4514")).toBe("CN=a\\0D\\0Ab");
    expect(cn("a\u0000b\u007fc\u0085d", "ofb")).toBe("CN=a\\00b\\7Fc\\C2\\85d");
    expect(cn("a\r\nb", "oneline")).toBe("/CN=a\\x0D\\x0Ab");
    expect(cn("a\u0085b", "oneline")).toBe("/CN=a\\xC2\\x85b");
  });

  it("keeps non-ASCII text", () => {
    expect(cn("São Paulo", "rfc4514")).toBe("CN=São Paulo");
    expect(cn("São Paulo", "oneline")).toBe("/CN=São Paulo");
  });

  it("escapes / + = \\ and a leading # in oneline, and leaves , ; and spaces alone", () => {
    expect(cn("a/b+c=d\\e", "oneline")).toBe("/CN=a\\/b\\+c\\=d\\\\e");
    expect(cn("#x", "oneline")).toBe("/CN=\\#x");
    expect(cn(" a,b;c ", "oneline")).toBe("/CN= a,b;c ");
    expect(cn("x/O=evil", "oneline")).toBe("/CN=x\\/O\\=evil");
  });

  it("joins a multi-valued RDN with +, reversed like OpenSSL in RFC 4514 and in encoded order in oneline", () => {
    const rdns: Rdn[] = [[OID.C, "BR", "printableString"], [[OID.O, "Org"], [OID.OU, "Unit"]], [OID.CN, "host"]];
    expect(formatDn(nameDer(rdns), "rfc4514")).toBe("CN=host,OU=Unit+O=Org,C=BR");
    expect(formatDn(nameDer(rdns), "ofb")).toBe("CN=host,OU=Unit+O=Org,C=BR");
    expect(formatDn(nameDer(rdns), "oneline")).toBe("/C=BR/O=Org+OU=Unit/CN=host");
  });

  it("writes values without a string form, and unknown OIDs, as #hex", () => {
    const name = rawNameDer([
      [["1.2.3.4", hex("020105")]],
      [["1.2.840.113549.1.9.1", tlv(0x16, new TextEncoder().encode("a@b"))]],
      [[OID.CN, hex("0C02FF41")]],
    ]);
    expect(formatDn(name, "rfc4514")).toBe("CN=#0C02FF41,1.2.840.113549.1.9.1=#1603614062,1.2.3.4=#020105");
    expect(formatDn(name, "oneline")).toBe("/1.2.3.4=#020105/1.2.840.113549.1.9.1=a@b/CN=#0C02FF41");
  });

  it("uses STREET and DC in RFC 4514 and street in oneline", () => {
    const name = nameDer([[OID.DC, "br", "ia5String"], [OID.STREET, "Rua A, 1"]]);
    expect(formatDn(name, "rfc4514")).toBe("STREET=Rua A\\, 1,DC=br");
    expect(formatDn(name, "ofb")).toBe("STREET=Rua A\\, 1,DC=br");
    expect(formatDn(name, "oneline")).toBe("/DC=br/street=Rua A, 1");
  });

  it("writes an empty Name as the empty string", () => {
    expect(formatDn(hex("3000"), "rfc4514")).toBe("");
    expect(formatDn(hex("3000"), "oneline")).toBe("");
  });
});
