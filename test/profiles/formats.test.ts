import { X509Certificate, createHash } from "node:crypto";
import { AsnConvert } from "@peculiar/asn1-schema";
import { Certificate, GeneralName, Name } from "@peculiar/asn1-x509";
import { describe, expect, it } from "vitest";
import { EdgeError } from "../../src/errors.js";
import { formatDn } from "../../src/identity/dn.js";
import { parseCertInfo } from "../../src/pki/certificate.js";
import {
  formatDigest,
  formatName,
  formatSerial,
  formatTime,
  isSafeFieldValue,
  subjectAltNames,
  xfccElement,
  xfccValue,
} from "../../src/profiles/formats.js";
import { OID, generateKeys, hex, issueLeaf, nameDer, rawNameDer, sanExtension, tlv, type Rdn } from "../identity/certificates.js";

// Every expected DN below was printed by OpenSSL 3.0.19 from a certificate carrying exactly these Name
// bytes: `openssl x509 -noout -subject -nameopt RFC2253` (X509_NAME_print_ex with XN_FLAG_RFC2253, what
// nginx ngx_ssl_get_subject_dn calls) and `-nameopt compat` (apps print_name → X509_NAME_oneline, what
// nginx ngx_ssl_get_subject_dn_legacy calls).

const utf8 = (text: string) => tlv(0x0c, new TextEncoder().encode(text));
const ascii = (tag: number, text: string) => tlv(tag, new TextEncoder().encode(text));

// An OFB transport-certificate subject (the shape of real BRCAC subjects), with a non-ASCII locality and a
// multi-valued RDN (UID + CN), in DER order.
const ofbRdns: readonly Rdn[] = [
  [OID.businessCategory, "Private Organization"],
  [OID.jurisdictionC, "BR", "printableString"],
  [OID.serialNumber, "33264668000103", "printableString"],
  [OID.C, "BR", "printableString"],
  [OID.O, "Banco Exemplo S.A."],
  [OID.ST, "SP"],
  [OID.L, "São Paulo"],
  [OID.organizationIdentifier, "OFBBR-79717d71-0cf4-58f6-b2d0-370d5404d383"],
  [
    [OID.UID, "9a4c69f8-3ed6-4641-87de-9354bb8bb69a"],
    [OID.CN, "tpp.exemplo.com.br"],
  ],
];

// RFC 2253 specials, leading/trailing space and `#`, and a value that is exactly `#`.
const specials = rawNameDer([
  [[OID.C, ascii(0x13, "BR")]],
  [[OID.O, utf8('a,b+c"d\\e;f<g>h=i/j')]],
  [[OID.OU, utf8(" lead and trail ")]],
  [[OID.CN, utf8("#first")]],
  [[OID.L, utf8("#")]],
]);

// Controls, a T61String with Latin-1 octets, a BMPString and a UniversalString outside the BMP.
const wide = rawNameDer([
  [[OID.ST, utf8("tab\there\u0000nul\u007fdel")]],
  [[OID.STREET, tlv(0x14, hex("4A6FE36F85"))]],
  [["2.5.4.12", tlv(0x1e, hex("03A9006D006500670061"))]],
  [["2.5.4.13", tlv(0x1c, hex("0001F60000000078"))]],
]);

// An unknown OID, IA5Strings, `+` and `/` inside a multi-valued RDN, and a value that is one space.
const mixed = rawNameDer([
  [["1.3.6.1.4.1.99999.1", utf8("x")]],
  [["1.2.840.113549.1.9.1", ascii(0x16, "a@b.c")]],
  [[OID.DC, ascii(0x16, "example")]],
  [
    [OID.OU, utf8("x+y/z")],
    [OID.CN, utf8("multi")],
  ],
  [[OID.CN, utf8(" ")]],
]);

describe("formatName rfc2253 (OpenSSL X509_NAME_print_ex XN_FLAG_RFC2253)", () => {
  it("writes an OFB subject most specific first, with short names, \\XX UTF-8 and the multi-valued RDN reversed", () => {
    expect(formatName(nameDer(ofbRdns), "rfc2253")).toBe(
      "CN=tpp.exemplo.com.br+UID=9a4c69f8-3ed6-4641-87de-9354bb8bb69a," +
        "organizationIdentifier=OFBBR-79717d71-0cf4-58f6-b2d0-370d5404d383,L=S\\C3\\A3o Paulo,ST=SP," +
        "O=Banco Exemplo S.A.,C=BR,serialNumber=33264668000103,jurisdictionC=BR,businessCategory=Private Organization",
    );
  });

  it("escapes RFC 2253 specials and edge spaces but not = or /, and leaves a lone # alone (do_buf last-character flag)", () => {
    expect(formatName(specials, "rfc2253")).toBe('L=#,CN=\\#first,OU=\\ lead and trail\\ ,O=a\\,b\\+c\\"d\\\\e\\;f\\<g\\>h=i/j,C=BR');
  });

  it("writes controls as \\XX and converts T61, BMP and Universal strings to UTF-8 octets", () => {
    expect(formatName(wide, "rfc2253")).toBe("description=\\F0\\9F\\98\\80x,title=\\CE\\A9mega,street=Jo\\C3\\A3o\\C2\\85,ST=tab\\09here\\00nul\\7Fdel");
  });

  it("dumps an unknown OID as #DER and escapes a one-space value", () => {
    expect(formatName(mixed, "rfc2253")).toBe("CN=\\ ,CN=multi+OU=x\\+y/z,DC=example,emailAddress=a@b.c,1.3.6.1.4.1.99999.1=#0C0178");
  });

  it("dumps a non-string value of a known type as #DER", () => {
    expect(formatName(rawNameDer([[["2.5.4.41", tlv(0x30, utf8("x"))]]]), "rfc2253")).toBe("name=#30030C0178");
  });

  it("refuses a string OpenSSL would not have parsed (invalid UTF-8, a surrogate pair in a BMPString)", () => {
    for (const value of [tlv(0x0c, hex("41C328")), tlv(0x1e, hex("D83DDE00")), tlv(0x1c, hex("00110000"))]) {
      expect(() => formatName(rawNameDer([[[OID.O, value]]]), "rfc2253")).toThrow(EdgeError);
    }
  });
});

describe("formatName oneline (OpenSSL 3 X509_NAME_oneline)", () => {
  it("writes DER order with \\xXX for non-ASCII octets and + inside the multi-valued RDN", () => {
    expect(formatName(nameDer(ofbRdns), "oneline")).toBe(
      "/businessCategory=Private Organization/jurisdictionC=BR/serialNumber=33264668000103/C=BR/O=Banco Exemplo S.A." +
        "/ST=SP/L=S\\xC3\\xA3o Paulo/organizationIdentifier=OFBBR-79717d71-0cf4-58f6-b2d0-370d5404d383" +
        "/UID=9a4c69f8-3ed6-4641-87de-9354bb8bb69a+CN=tpp.exemplo.com.br",
    );
  });

  it("escapes only / and + (OpenSSL ≥ 3.0, openssl PR #12769), not \\ , ; \" or edge spaces", () => {
    expect(formatName(specials, "oneline")).toBe('/C=BR/O=a,b\\+c"d\\e;f<g>h=i\\/j/OU= lead and trail /CN=#first/L=#');
    expect(formatName(mixed, "oneline")).toBe("/1.3.6.1.4.1.99999.1=x/emailAddress=a@b.c/DC=example/OU=x\\+y\\/z+CN=multi/CN= ");
  });

  it("prints the raw content octets of every string type, BMP and Universal included", () => {
    expect(formatName(wide, "oneline")).toBe(
      "/ST=tab\\x09here\\x00nul\\x7Fdel/street=Jo\\xE3o\\x85/title=\\x03\\xA9\\x00m\\x00e\\x00g\\x00a/description=\\x00\\x01\\xF6\\x00\\x00\\x00\\x00x",
    );
    expect(formatName(rawNameDer([[["2.5.4.41", tlv(0x30, utf8("x"))]]]), "oneline")).toBe("/name=0\\x03\\x0C\\x01x");
  });

  it("writes an empty Name as the empty string in every text form", () => {
    const empty = Uint8Array.of(0x30, 0x00);
    expect([formatName(empty, "rfc2253"), formatName(empty, "oneline")]).toEqual(["", ""]);
  });
});

describe("formatName rfc2253-utf8 and haproxy-oneline (raw octets, one Latin-1 character each)", () => {
  // Written by hand from the DER: `São` is the UTF-8 octets 53 C3 A3 6F, so the characters S, U+00C3, U+00A3, o.

  it("rfc2253-utf8 (Apache mod_ssl SSL_CLIENT_S_DN): rfc2253 with the UTF-8 octets ≥ 0x80 raw", () => {
    const value = formatName(nameDer(ofbRdns), "rfc2253-utf8");
    expect(value).toBe(
      "CN=tpp.exemplo.com.br+UID=9a4c69f8-3ed6-4641-87de-9354bb8bb69a," +
        "organizationIdentifier=OFBBR-79717d71-0cf4-58f6-b2d0-370d5404d383,L=S\u00c3\u00a3o Paulo,ST=SP," +
        "O=Banco Exemplo S.A.,C=BR,serialNumber=33264668000103,jurisdictionC=BR,businessCategory=Private Organization",
    );
    expect(isSafeFieldValue(value)).toBe(true);
  });

  it("rfc2253-utf8 still escapes specials, edge spaces, # and controls, converts T61/BMP/Universal to UTF-8, dumps unknown OIDs", () => {
    expect(formatName(specials, "rfc2253-utf8")).toBe('L=#,CN=\\#first,OU=\\ lead and trail\\ ,O=a\\,b\\+c\\"d\\\\e\\;f\\<g\\>h=i/j,C=BR');
    // U+1F600 = F0 9F 98 80, U+03A9 = CE A9, T61 E3 85 (Latin-1 ã, U+0085) = C3 A3 C2 85.
    expect(formatName(wide, "rfc2253-utf8")).toBe(
      "description=\u00f0\u009f\u0098\u0080x,title=\u00ce\u00a9mega,street=Jo\u00c3\u00a3o\u00c2\u0085,ST=tab\\09here\\00nul\\7Fdel",
    );
    expect(formatName(mixed, "rfc2253-utf8")).toBe("CN=\\ ,CN=multi+OU=x\\+y/z,DC=example,emailAddress=a@b.c,1.3.6.1.4.1.99999.1=#0C0178");
  });

  it("rfc2253-utf8 refuses the strings rfc2253 refuses", () => {
    for (const value of [tlv(0x0c, hex("41C328")), tlv(0x1e, hex("D83DDE00")), tlv(0x1c, hex("00110000"))]) {
      expect(() => formatName(rawNameDer([[[OID.O, value]]]), "rfc2253-utf8")).toThrow(EdgeError);
    }
  });

  it("haproxy-oneline (ssl_sock_get_dn_oneline): DER order, '/' before every entry of a multi-valued RDN too, UTF-8 raw", () => {
    expect(formatName(nameDer(ofbRdns), "haproxy-oneline")).toBe(
      "/businessCategory=Private Organization/jurisdictionC=BR/serialNumber=33264668000103/C=BR/O=Banco Exemplo S.A." +
        "/ST=SP/L=S\u00c3\u00a3o Paulo/organizationIdentifier=OFBBR-79717d71-0cf4-58f6-b2d0-370d5404d383" +
        "/UID=9a4c69f8-3ed6-4641-87de-9354bb8bb69a/CN=tpp.exemplo.com.br",
    );
  });

  it("haproxy-oneline escapes nothing: / + \\ , ; \" and edge spaces stay as they are; an unknown type is its dotted OID", () => {
    expect(formatName(specials, "haproxy-oneline")).toBe('/C=BR/O=a,b+c"d\\e;f<g>h=i/j/OU= lead and trail /CN=#first/L=#');
    expect(formatName(mixed, "haproxy-oneline")).toBe("/1.3.6.1.4.1.99999.1=x/emailAddress=a@b.c/DC=example/OU=x+y/z/CN=multi/CN= ");
  });

  it("haproxy-oneline copies T61String and BMPString octets unconverted, and keeps a TAB", () => {
    // T61 4A 6F E3 6F 85; BMP U+4E2D U+6587 = 4E 2D 65 87 ("N-e" and U+0087).
    const octets = rawNameDer([
      [[OID.STREET, tlv(0x14, hex("4A6FE36F85"))]],
      [["2.5.4.12", tlv(0x1e, hex("4E2D6587"))]],
      [[OID.ST, utf8("tab\there")]],
    ]);
    expect(formatName(octets, "haproxy-oneline")).toBe("/street=Jo\u00e3o\u0085/title=N-e\u0087/ST=tab\there");
  });

  it("haproxy-oneline refuses a control octet (RFC 9110 §5.5) with PROFILE_VALUE_UNSAFE naming the attribute", () => {
    const refusal = (der: Uint8Array) => {
      try {
        formatName(der, "haproxy-oneline");
      } catch (err) {
        return err instanceof EdgeError ? [err.code, err.message] : err;
      }
      return "emitted";
    };
    // `wide`'s ST holds NUL and DEL; its BMPString Ωmega is 03 A9 00 6D …; a UniversalString has 00 octets.
    expect(refusal(wide)).toEqual(["PROFILE_VALUE_UNSAFE", expect.stringContaining("2.5.4.8 (ST)")]);
    expect(refusal(rawNameDer([[["2.5.4.12", tlv(0x1e, hex("03A9006D006500670061"))]]]))).toEqual(["PROFILE_VALUE_UNSAFE", expect.stringContaining("title")]);
    expect(refusal(rawNameDer([[["2.5.4.13", tlv(0x1c, hex("0001F600"))]]]))).toEqual(["PROFILE_VALUE_UNSAFE", expect.stringContaining("description")]);
    expect(refusal(rawNameDer([[[OID.CN, utf8("a\r\nX-Injected: 1")]]]))).toEqual(["PROFILE_VALUE_UNSAFE", expect.stringContaining("CN")]);
    expect(refusal(rawNameDer([[[OID.O, utf8("del\u007f")]]]))).toEqual(["PROFILE_VALUE_UNSAFE", expect.stringContaining("2.5.4.10 (O)")]);
  });

  it("haproxy-oneline writes a dotted OID of up to 127 characters (HAProxy's char tmp[128]) and refuses a longer one", () => {
    const oid127 = `1.3.6.1.4.1.99999.${"1234567.".repeat(13)}12345`;
    expect(oid127).toHaveLength(127);
    expect(formatName(rawNameDer([[[oid127, utf8("x")]]]), "haproxy-oneline")).toBe(`/${oid127}=x`);
    expect(() => formatName(rawNameDer([[[`${oid127}6`, utf8("x")]]]), "haproxy-oneline")).toThrow(
      expect.objectContaining({ code: "PROFILE_VALUE_UNSAFE" }),
    );
  });

  it("writes an empty Name as the empty string", () => {
    const empty = Uint8Array.of(0x30, 0x00);
    expect([formatName(empty, "rfc2253-utf8"), formatName(empty, "haproxy-oneline")]).toEqual(["", ""]);
  });
});

describe("formatName ofb-rfc4514 and der-base64", () => {
  it("delegates ofb-rfc4514 to the identity module's OFB form", () => {
    const der = nameDer(ofbRdns);
    expect(formatName(der, "ofb-rfc4514")).toBe(formatDn(der, "ofb"));
    expect(formatName(der, "ofb-rfc4514")).toContain("2.5.4.97=#0C2A4F464242522D");
  });

  it("writes GCP's base64 of the Name DER (RFC 9440 Appendix A leaf: CN=BC)", () => {
    // The subject Name's base64 stands verbatim in the RFC 9440 example certificate's PEM text.
    expect(formatName(nameDer([[OID.CN, "BC"]]), "der-base64")).toBe("MA0xCzAJBgNVBAMMAkJD");
  });

  it("rejects bytes that are not a Name", () => {
    for (const format of ["rfc2253", "rfc2253-utf8", "oneline", "haproxy-oneline", "ofb-rfc4514", "der-base64"] as const) {
      expect(() => formatName(Uint8Array.of(0x04, 0x00), format)).toThrow(EdgeError);
    }
  });
});

describe("formatSerial (OpenSSL i2a_ASN1_INTEGER and the colon/decimal forms)", () => {
  // `openssl x509 -serial` (i2a_ASN1_INTEGER, as nginx ngx_ssl_get_serial_number and Apache
  // ssl_var_lookup_ssl_cert_serial) on certificates with these serialNumber contents.
  const opensslSerials: readonly (readonly [content: string, printed: string])[] = [
    ["008F1E2D3C4B5A69788796A5B4C3D2E1F0", "8F1E2D3C4B5A69788796A5B4C3D2E1F0"],
    ["01", "01"],
    ["00", "00"],
    ["FF7F", "-81"],
    ["80", "-80"],
    ["FF", "-01"],
    ["00" + "AB".repeat(20), "AB".repeat(20)],
    ["11".repeat(40), `${"11".repeat(35)}\\\n${"11".repeat(5)}`],
  ];

  it.each(opensslSerials)("hex-upper of %s is OpenSSL's %j", (content, printed) => {
    expect(formatSerial(hex(content), "hex-upper")).toBe(printed);
  });

  it("matches Node's X509Certificate.serialNumber for a certificate's own serialNumber", async () => {
    const der = await issueLeaf(await generateKeys(), { subject: nameDer(ofbRdns), serialNumber: "8F1E2D3C4B5A69788796A5B4C3D2E1F0" });
    const content = new Uint8Array(AsnConvert.parse(der, Certificate).tbsCertificate.serialNumber);
    expect(formatSerial(content, "hex-upper")).toBe(new X509Certificate(der).serialNumber);
  });

  it("writes the colon, lowercase and decimal forms from the same octets", () => {
    const content = hex("008F1E2D3C4B5A69788796A5B4C3D2E1F0");
    expect(formatSerial(content, "hex-lower")).toBe("8f1e2d3c4b5a69788796a5b4c3d2e1f0");
    expect(formatSerial(content, "hex-upper-colon")).toBe("8F:1E:2D:3C:4B:5A:69:78:87:96:A5:B4:C3:D2:E1:F0");
    expect(formatSerial(content, "hex-lower-colon")).toBe("8f:1e:2d:3c:4b:5a:69:78:87:96:a5:b4:c3:d2:e1:f0");
    // Python int("8F1E2D3C4B5A69788796A5B4C3D2E1F0", 16), as Go big.Int.String (Traefik) prints it.
    expect(formatSerial(content, "decimal")).toBe("190236289788441606967356023324311478768");
    expect(formatSerial(hex("FF7F"), "decimal")).toBe("-129");
    expect(formatSerial(hex("11".repeat(40)), "hex-lower")).toBe("11".repeat(40));
  });

  it("refuses what OpenSSL's c2i_ibuf refuses: no content, a redundant padding octet", () => {
    for (const content of ["", "007F", "FF80"]) expect(() => formatSerial(hex(content), "hex-upper")).toThrow(EdgeError);
  });
});

describe("formatDigest", () => {
  // FIPS 180-2 Appendix B.1: SHA-256("abc"); base64 forms from Python's base64 module.
  const abc = createHash("sha256").update("abc").digest();

  it("writes the FIPS 180-2 SHA-256('abc') vector in every format", () => {
    expect(formatDigest(abc, "hex-lower")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(formatDigest(abc, "hex-upper")).toBe("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD");
    expect(formatDigest(abc, "hex-upper-colon")).toBe(
      "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD",
    );
    expect(formatDigest(abc, "hex-lower-colon")).toBe(
      "ba:78:16:bf:8f:01:cf:ea:41:41:40:de:5d:ae:22:23:b0:03:61:a3:96:17:7a:9c:b4:10:ff:61:f2:00:15:ad",
    );
    expect(formatDigest(abc, "base64")).toBe("ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
    // RFC 8705 §3.1 / RFC 7515 §2: base64url without padding.
    expect(formatDigest(abc, "base64url")).toBe("ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
  });

  it("writes SHA-1 ('abc', FIPS 180-2) and a sub-array view by its own bytes only", () => {
    const sha1 = createHash("sha1").update("abc").digest();
    expect(formatDigest(sha1, "hex-lower")).toBe("a9993e364706816aba3e25717850c26c9cd0d89d");
    const view = new Uint8Array([0xee, 0x0a, 0xff, 0x01, 0xee]).subarray(1, 4);
    expect([formatDigest(view, "hex-upper-colon"), formatDigest(view, "base64")]).toEqual(["0A:FF:01", "Cv8B"]);
  });

  it("matches Node's fingerprint256 (uppercase colon hex) for a certificate", async () => {
    const cert = await issueLeaf(await generateKeys(), { subject: nameDer([[OID.CN, "digest"]]) });
    expect(formatDigest(createHash("sha256").update(cert).digest(), "hex-upper-colon")).toBe(new X509Certificate(cert).fingerprint256);
  });
});

describe("formatTime", () => {
  const start = new Date("2023-09-21T01:50:17Z");
  const end = new Date("2024-09-05T09:05:09.999Z");

  it("writes the AWS ALB example instant (AWS ALB mutual-authentication docs) in every format", () => {
    expect(formatTime(start, "rfc3339")).toBe("2023-09-21T01:50:17Z");
    expect(formatTime(start, "unix")).toBe("1695261017");
    expect(formatTime(start, "openssl")).toBe("Sep 21 01:50:17 2023 GMT");
    expect(formatTime(start, "generalized")).toBe("20230921015017Z");
    expect(formatTime(start, "haproxy")).toBe("230921015017Z");
  });

  it("pads a one-digit day with a space as ASN1_TIME_print does, and drops milliseconds", () => {
    expect(formatTime(end, "openssl")).toBe("Sep  5 09:05:09 2024 GMT");
    expect(formatTime(end, "rfc3339")).toBe("2024-09-05T09:05:09Z");
    expect(formatTime(end, "unix")).toBe("1725527109");
  });

  it("agrees with Node's X509Certificate validFrom/validTo (OpenSSL ASN1_TIME_print)", async () => {
    const der = await issueLeaf(await generateKeys(), { subject: nameDer([[OID.CN, "t"]]), notBefore: start, notAfter: new Date("2024-09-05T09:05:09Z") });
    const cert = new X509Certificate(der);
    expect([formatTime(start, "openssl"), formatTime(end, "openssl")]).toEqual([cert.validFrom, cert.validTo]);
  });

  it("refuses an invalid date, and years HAProxy's ssl_sock_get_time cannot print", () => {
    expect(() => formatTime(new Date(Number.NaN), "rfc3339")).toThrow(EdgeError);
    expect(() => formatTime(new Date("1999-12-31T23:59:59Z"), "haproxy")).toThrow(EdgeError);
    expect(() => formatTime(new Date("2100-01-01T00:00:00Z"), "haproxy")).toThrow(EdgeError);
    expect(formatTime(new Date("2049-12-31T23:59:59Z"), "haproxy")).toBe("491231235959Z");
    expect(formatTime(new Date("2050-01-01T00:00:00Z"), "generalized")).toBe("20500101000000Z");
  });
});

describe("XFCC values and elements (Envoy headers.rst)", () => {
  it("reproduces the Envoy documentation example element", () => {
    const element = xfccElement([
      ["By", "http://frontend.lyft.com"],
      ["Hash", "468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688"],
      ["Subject", "/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client"],
      ["URI", "http://testclient.lyft.com"],
    ]);
    expect(element).toBe(
      "By=http://frontend.lyft.com;Hash=468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688;" +
        'Subject="/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client";URI=http://testclient.lyft.com',
    );
  });

  it("quotes values holding , ; = or \" and escapes the quote", () => {
    expect(xfccValue("plain", false)).toBe("plain");
    expect(xfccValue("a,b", false)).toBe('"a,b"');
    expect(xfccValue("a;b", false)).toBe('"a;b"');
    expect(xfccValue("a=b", false)).toBe('"a=b"');
    expect(xfccValue('say "hi"', false)).toBe('"say \\"hi\\""');
    expect(xfccValue("CN=x", true)).toBe('"CN=x"');
    expect(xfccValue("", false)).toBe("");
  });

  it("always quotes Cert, Chain and Subject unless told otherwise, and keeps repeated keys in order", () => {
    expect(
      xfccElement([
        ["Cert", "-----BEGIN%20CERTIFICATE-----%0A"],
        ["Subject", "CN=a"],
        ["URI", "spiffe://a"],
        ["URI", "https://b/x;y=z"],
        ["DNS", "a.example"],
        ["Subject", "CN=b", false],
      ]),
    ).toBe('Cert="-----BEGIN%20CERTIFICATE-----%0A";Subject="CN=a";URI=spiffe://a;URI="https://b/x;y=z";DNS=a.example;Subject="CN=b"');
  });

  it("keeps a peer-controlled SAN from injecting a second key or element", () => {
    const element = xfccElement([
      ["Hash", "00"],
      ["URI", 'https://x/;Hash=ff,By="evil"'],
    ]);
    expect(element).toBe('Hash=00;URI="https://x/;Hash=ff,By=\\"evil\\""');
  });

  it("refuses a key that is not a plain name", () => {
    expect(() => xfccElement([["By;Hash", "x"]])).toThrow(TypeError);
  });
});

describe("subjectAltNames", () => {
  it("returns DNS names, e-mail addresses, IP addresses and URIs, each in certificate order, ignoring other GeneralNames", async () => {
    const der = await issueLeaf(await generateKeys(), {
      subject: nameDer([[OID.CN, "san"]]),
      subjectAltNames: [
        new GeneralName({ dNSName: "tpp.exemplo.com.br" }),
        new GeneralName({ rfc822Name: "ops@exemplo.com.br" }),
        new GeneralName({ uniformResourceIdentifier: "https://tpp.exemplo.com.br/a;b=c,d" }),
        new GeneralName({ dNSName: "api.exemplo.com.br" }),
        new GeneralName({ uniformResourceIdentifier: "spiffe://exemplo/tpp" }),
        new GeneralName({ iPAddress: "192.0.2.7" }),
        new GeneralName({ directoryName: AsnConvert.parse(nameDer([[OID.CN, "dir"]]), Name) }),
      ],
    });
    expect(subjectAltNames(der)).toEqual({
      dns: ["tpp.exemplo.com.br", "api.exemplo.com.br"],
      email: ["ops@exemplo.com.br"],
      ip: [Uint8Array.of(192, 0, 2, 7)],
      uri: ["https://tpp.exemplo.com.br/a;b=c,d", "spiffe://exemplo/tpp"],
    });
    // Node (OpenSSL X509V3_EXT_print) lists the same names in the same order.
    expect(new X509Certificate(der).subjectAltName).toBe(
      'DNS:tpp.exemplo.com.br, email:ops@exemplo.com.br, URI:"https://tpp.exemplo.com.br/a;b=c\\u002cd", DNS:api.exemplo.com.br, URI:spiffe://exemplo/tpp, IP Address:192.0.2.7, DirName:CN=dir',
    );
  });

  it("returns empty lists without a subjectAltName and rejects two of them (RFC 5280 §4.2)", async () => {
    const keys = await generateKeys();
    const none = await issueLeaf(keys, { subject: nameDer([[OID.CN, "none"]]) });
    expect(subjectAltNames(none)).toEqual({ dns: [], email: [], ip: [], uri: [] });
    const twice = await issueLeaf(keys, {
      subject: nameDer([[OID.CN, "twice"]]),
      subjectAltNames: [new GeneralName({ dNSName: "a.example" })],
      extensions: [sanExtension([new GeneralName({ dNSName: "b.example" })])],
    });
    expect(() => subjectAltNames(twice)).toThrow(EdgeError);
    expect(() => subjectAltNames(Uint8Array.of(0x30, 0x00))).toThrow(EdgeError);
  });

  it("feeds the subject DER of a real certificate (parseCertInfo) into formatName", async () => {
    const der = await issueLeaf(await generateKeys(), { subject: nameDer(ofbRdns) });
    expect(formatName(parseCertInfo(der).subjectDer, "rfc2253")).toMatch(/^CN=tpp\.exemplo\.com\.br\+UID=.*,L=S\\C3\\A3o Paulo,/);
  });
});

describe("isSafeFieldValue (RFC 9110 §5.5 field-value characters)", () => {
  it("accepts HTAB, SP, VCHAR and obs-text", () => {
    expect(isSafeFieldValue("")).toBe(true);
    expect(isSafeFieldValue("a\tb c~!")).toBe(true);
    expect(isSafeFieldValue("S\u00e3o")).toBe(true);
    expect(isSafeFieldValue("-----END CERTIFICATE----- ")).toBe(true);
  });

  it.each([
    ["CR", "a\rb"],
    ["LF", "a\nb"],
    ["CRLF header injection", "x\r\nX-Injected: 1"],
    ["NUL", "a\u0000b"],
    ["DEL", "a\u007fb"],
    ["another C0 control", "a\u001bb"],
    ["a character above U+00FF", "a\u0100b"],
  ])("refuses %s", (_name, value) => {
    expect(isSafeFieldValue(value)).toBe(false);
  });

  it("refuses i2a_ASN1_INTEGER's wrapped serial", () => {
    expect(isSafeFieldValue(formatSerial(hex("11".repeat(40)), "hex-upper"))).toBe(false);
  });
});
