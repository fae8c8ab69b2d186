import { GeneralName } from "@peculiar/asn1-x509";
import { describe, expect, it } from "vitest";
import { ICP_BRASIL_OTHER_NAME, readIcpBrasilOtherNames } from "../../src/identity/index.js";
import { hex, otherName, stringDer, tlv } from "./certificates.js";

const OCTET = 0x04;
const UTF8 = 0x0c;
const PRINTABLE = 0x13;
const IA5 = 0x16;

// Resolução CG ICP-Brasil 128/2017, as issued certificates fill it: birth date (8) + CPF (11) + NIS (11) + RG (15, here alphanumeric) + issuer/UF (7) = 52.
const RESPONSIBLE_DATA = "15071980" + "12345678909" + "00000000000" + "0000000X1234567" + "PCDF-DF";

const rfc822 = new GeneralName({ rfc822Name: "pki@example.com.br" });
const dns = new GeneralName({ dNSName: "api.example.com.br" });

describe("readIcpBrasilOtherNames", () => {
  it.each([
    ["OCTET STRING", OCTET],
    ["PrintableString", PRINTABLE],
    ["UTF8String", UTF8],
    ["IA5String", IA5],
  ])("reads the CNPJ (2.16.76.1.3.3) from a %s", (_type, tag) => {
    const names = [otherName(ICP_BRASIL_OTHER_NAME.cnpj, stringDer(tag, "11222333000181"))];
    expect(readIcpBrasilOtherNames(names)?.cnpj).toBe("11222333000181");
  });

  it("reads the Res. 128/2017 set in any order with rfc822Name and dNSName entries mixed in", () => {
    const entries = [
      otherName(ICP_BRASIL_OTHER_NAME.companyName, stringDer(OCTET, "EMPRESA EXEMPLO LTDA")),
      otherName(ICP_BRASIL_OTHER_NAME.cnpj, stringDer(OCTET, "12ABC34501DE35")),
      otherName(ICP_BRASIL_OTHER_NAME.responsibleName, stringDer(PRINTABLE, "FULANO DE TAL")),
      otherName(ICP_BRASIL_OTHER_NAME.responsibleData, stringDer(UTF8, RESPONSIBLE_DATA)),
      otherName(ICP_BRASIL_OTHER_NAME.cei, stringDer(PRINTABLE, "000000000000")),
    ];
    const expected = {
      cnpj: "12ABC34501DE35",
      responsibleName: "FULANO DE TAL",
      responsibleData: RESPONSIBLE_DATA,
      cei: "000000000000",
      companyName: "EMPRESA EXEMPLO LTDA",
    };
    expect(readIcpBrasilOtherNames([dns, ...entries])).toEqual(expected);
    const [a, b, c, d, e] = entries;
    expect(readIcpBrasilOtherNames([e!, rfc822, c!, a!, dns, d!, rfc822, b!])).toEqual(expected);
  });

  it("keeps a 52-character 2.16.76.1.3.4 with an alphanumeric RG as text", () => {
    const names = [otherName(ICP_BRASIL_OTHER_NAME.responsibleData, stringDer(OCTET, `${RESPONSIBLE_DATA}   `))];
    const data = readIcpBrasilOtherNames(names)?.responsibleData;
    expect(data).toBe(RESPONSIBLE_DATA);
    expect(data).toHaveLength(52);
    expect(data?.slice(30, 45)).toBe("0000000X1234567");
  });

  it("trims trailing spaces from positional values and both ends of names", () => {
    const names = [
      otherName(ICP_BRASIL_OTHER_NAME.cnpj, stringDer(PRINTABLE, "11222333000181  ")),
      otherName(ICP_BRASIL_OTHER_NAME.companyName, stringDer(UTF8, "  EMPRESA  ")),
    ];
    expect(readIcpBrasilOtherNames(names)).toMatchObject({ cnpj: "11222333000181", companyName: "EMPRESA" });
  });

  it("decodes OCTET STRING content as Latin-1", () => {
    const latin1 = tlv(OCTET, hex("5345525649C74F53")).buffer as ArrayBuffer;
    expect(readIcpBrasilOtherNames([otherName(ICP_BRASIL_OTHER_NAME.companyName, latin1)])?.companyName).toBe("SERVIÇOS");
  });

  it("returns null when none of the five otherNames is present", () => {
    expect(readIcpBrasilOtherNames([])).toBeNull();
    expect(readIcpBrasilOtherNames([rfc822, dns])).toBeNull();
    expect(readIcpBrasilOtherNames([otherName("1.3.6.1.4.1.311.20.2.3", stringDer(UTF8, "upn@example"))])).toBeNull();
  });

  it("accepts a repeated otherName with the same value and fails closed on different values", () => {
    const same = otherName(ICP_BRASIL_OTHER_NAME.cnpj, stringDer(OCTET, "11222333000181"));
    const other = otherName(ICP_BRASIL_OTHER_NAME.cnpj, stringDer(OCTET, "12ABC34501DE35"));
    expect(readIcpBrasilOtherNames([same, rfc822, same])?.cnpj).toBe("11222333000181");
    expect(() => readIcpBrasilOtherNames([same, other])).toThrowError(expect.objectContaining({ code: "CERT_MALFORMED" }));
  });

  it("fails closed on a value that is not a decodable OCTET STRING, PrintableString, UTF8String or IA5String", () => {
    const bmp = tlv(0x1e, hex("00310031")).buffer as ArrayBuffer;
    const badUtf8 = tlv(UTF8, hex("FF41")).buffer as ArrayBuffer;
    for (const value of [bmp, badUtf8]) {
      expect(() => readIcpBrasilOtherNames([otherName(ICP_BRASIL_OTHER_NAME.cnpj, value)])).toThrowError(
        expect.objectContaining({ code: "CERT_MALFORMED" }),
      );
    }
  });
});
