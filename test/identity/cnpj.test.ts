import { describe, expect, it } from "vitest";
import { cnpjRoot, isValidCnpj, normaliseCnpj } from "../../src/identity/index.js";

describe("isValidCnpj", () => {
  it("accepts the worked alphanumeric example 12ABC34501DE35 (DV1 = 3, DV2 = 5)", () => {
    expect(isValidCnpj("12ABC34501DE35")).toBe(true);
  });

  it("accepts numeric CNPJs, including the real OFB participants of the reference DNs", () => {
    for (const cnpj of ["11222333000181", "33264668000103", "43142666000197", "09461647000195", "18236120000158"]) {
      expect(isValidCnpj(cnpj), cnpj).toBe(true);
    }
  });

  it("lets only the check digits decide: Banco do Brasil's root 00000000 is valid", () => {
    expect(isValidCnpj("00000000000191")).toBe(true);
    expect(isValidCnpj("00000000000000")).toBe(true);
    expect(isValidCnpj("00000000000192")).toBe(false);
  });

  it("rejects a wrong first or second check digit", () => {
    expect(isValidCnpj("12ABC34501DE45")).toBe(false);
    expect(isValidCnpj("12ABC34501DE36")).toBe(false);
    expect(isValidCnpj("11222333000191")).toBe(false);
    expect(isValidCnpj("11222333000182")).toBe(false);
  });

  it("rejects lowercase, punctuation, letters in the check digits and wrong lengths", () => {
    for (const value of [
      "12abc34501de35",
      "11.222.333/0001-81",
      "12ABC34501DEA5",
      "1122233300018",
      "112223330001810",
      "",
      " 11222333000181",
      "11222333000181 ",
      "１１２２２３３３０００１８１",
    ]) {
      expect(isValidCnpj(value), JSON.stringify(value)).toBe(false);
    }
  });
});

describe("normaliseCnpj", () => {
  it("strips the printed punctuation . / - and nothing else", () => {
    expect(normaliseCnpj("11.222.333/0001-81")).toBe("11222333000181");
    expect(normaliseCnpj("12.ABC.345/01DE-35")).toBe("12ABC34501DE35");
    expect(normaliseCnpj(" 11 222 333 0001 81")).toBe(" 11 222 333 0001 81");
    expect(normaliseCnpj("12.abc.345/01de-35")).toBe("12abc34501de35");
  });

  it("feeds isValidCnpj for human input", () => {
    expect(isValidCnpj(normaliseCnpj("11.222.333/0001-81"))).toBe(true);
    expect(isValidCnpj(normaliseCnpj("11.222.333/0001-82"))).toBe(false);
  });
});

describe("cnpjRoot", () => {
  it("is the first 8 characters", () => {
    expect(cnpjRoot("11222333000181")).toBe("11222333");
    expect(cnpjRoot("12ABC34501DE35")).toBe("12ABC345");
    expect(cnpjRoot("00000000000191")).toBe("00000000");
  });
});
