import * as x509 from "@peculiar/x509";
import { describe, expect, it } from "vitest";
import { EdgeError } from "../../src/errors.js";
import { traefikInfo, type TraefikInfoOptions } from "../../src/profiles/format-traefik.js";
import { headerSchema } from "../../src/profiles/schema.js";
import { OID, generateKeys, hex, issueLeaf, nameDer, tlv } from "../identity/certificates.js";

/**
 * Traefik's X-Forwarded-Tls-Client-Cert-Info (Traefik PassTLSClientCert middleware docs). The first expectation is the example in
 * Traefik's own documentation (docs/content/reference/routing-configuration/http/middlewares/passtlsclientcert.md,
 * "when all the available fields are selected"), reproduced from a certificate with that subject, issuer,
 * validity and SANs; the rest follow pass_tls_client_cert.go getCertInfo and Go's pkix.Name rules.
 */

const ALL: TraefikInfoOptions = {
  subject: ["DC", "C", "ST", "L", "O", "OU", "SN", "CN"],
  issuer: ["DC", "C", "ST", "L", "O", "SN", "CN"],
  serialNumber: false,
  notBefore: true,
  notAfter: true,
  sans: true,
};

/** A subjectAltName extension from raw GeneralName elements (tag + content), in this order. */
const rawSan = (...names: (readonly [tag: number, content: Uint8Array])[]) =>
  new x509.Extension("2.5.29.17", false, tlv(0x30, ...names.map(([tag, content]) => tlv(tag, content))));
const ia5 = (text: string) => new TextEncoder().encode(text);
const ipv4 = (text: string) => Uint8Array.from(text.split(".").map(Number));

/** Go url.QueryUnescape, to read the expectations in their unescaped form. */
const unescape = (value: string) => decodeURIComponent(value.replaceAll("+", " "));

describe("traefik-info", () => {
  it("reproduces Traefik's documented example (all subject and issuer fields, NB, NA, SAN)", async () => {
    const der = await issueLeaf(await generateKeys(), {
      subject: nameDer([
        [OID.DC, "org", "ia5String"],
        [OID.DC, "cheese", "ia5String"],
        [OID.C, "FR", "printableString"],
        [OID.C, "US", "printableString"],
        [OID.ST, "Cheese org state"],
        [OID.ST, "Cheese com state"],
        [OID.L, "TOULOUSE"],
        [OID.L, "LYON"],
        [OID.O, "Cheese"],
        [OID.O, "Cheese 2"],
        [OID.CN, "*.example.com"],
      ]),
      issuer: nameDer([
        [OID.DC, "org", "ia5String"],
        [OID.DC, "cheese", "ia5String"],
        [OID.C, "FR", "printableString"],
        [OID.C, "US", "printableString"],
        [OID.ST, "Signing State"],
        [OID.ST, "Signing State 2"],
        [OID.L, "TOULOUSE"],
        [OID.L, "LYON"],
        [OID.O, "Cheese"],
        [OID.O, "Cheese 2"],
        [OID.CN, "Simple Signing CA 2"],
      ]),
      notBefore: new Date(1747282426 * 1000),
      notAfter: new Date(1778818426 * 1000),
      // In certificate order unlike Traefik's: Go groups DNS names, e-mail addresses, IP addresses.
      extensions: [
        rawSan(
          [0x87, ipv4("10.0.1.0")],
          [0x82, ia5("*.example.org")],
          [0x81, ia5("test@example.org")],
          [0x82, ia5("*.example.net")],
          [0x87, ipv4("10.0.1.2")],
          [0x82, ia5("*.example.com")],
          [0x81, ia5("test@example.net")],
        ),
      ],
    });
    const value = traefikInfo([der], ALL);
    // The documentation's example lacks the ';' before SAN; getCertInfo joins every field with ';'.
    expect(unescape(value)).toBe(
      'Subject="DC=org,DC=cheese,C=FR,C=US,ST=Cheese org state,ST=Cheese com state,L=TOULOUSE,L=LYON,O=Cheese,O=Cheese 2,CN=*.example.com";' +
        'Issuer="DC=org,DC=cheese,C=FR,C=US,ST=Signing State,ST=Signing State 2,L=TOULOUSE,L=LYON,O=Cheese,O=Cheese 2,CN=Simple Signing CA 2";' +
        'NB="1747282426";NA="1778818426";SAN="*.example.org,*.example.net,*.example.com,test@example.org,test@example.net,10.0.1.0,10.0.1.2"',
    );
    // Go url.QueryEscape: '*' escaped, spaces as '+'.
    expect(value.startsWith("Subject%3D%22DC%3Dorg%2CDC%3Dcheese%2CC%3DFR%2CC%3DUS%2CST%3DCheese+org+state%2C")).toBe(true);
    expect(value).toContain("CN%3D%2A.example.com%22%3BIssuer");
  });

  it("follows Go's pkix.Name: the last CN and serialNumber only, empty values skipped, OU only for the subject", async () => {
    const name = nameDer([
      [OID.CN, "first"],
      [OID.serialNumber, "111", "printableString"],
      [OID.OU, "unit one"],
      [OID.OU, ""],
      [OID.OU, "unit two"],
      [OID.serialNumber, "222", "printableString"],
      [OID.CN, "second"],
      [OID.UID, "not a Traefik field"],
    ]);
    const der = await issueLeaf(await generateKeys(), { subject: name, issuer: name, serialNumber: "00FF" });
    const value = traefikInfo([der], { subject: ["CN", "OU", "SN"], issuer: ["OU", "CN"], serialNumber: true, notBefore: false, notAfter: false, sans: true });
    expect(unescape(value)).toBe('Subject="OU=unit one,OU=unit two,SN=222,CN=second";Issuer="CN=second";SerialNumber="255"');
  });

  it("writes non-ASCII text as UTF-8 octets, escapes every separator a value could fake, and keeps '~'", async () => {
    const der = await issueLeaf(await generateKeys(), {
      subject: nameDer([
        [OID.L, "São Paulo"],
        [OID.O, 'A "B", C; D=E~F'],
        [OID.OU, "ÿ", "bmpString"],
      ]),
    });
    const value = traefikInfo([der], { subject: ["L", "O", "OU"], serialNumber: false, notBefore: false, notAfter: false, sans: false });
    expect(value).toBe("Subject%3D%22L%3DS%C3%A3o+Paulo%2CO%3DA+%22B%22%2C+C%3B+D%3DE~F%2COU%3D%C3%BF%22");
    expect(value).toMatch(/^[A-Za-z0-9%+\-_.~]*$/);
  });

  it("prints IPv6 SANs as Go's net.IP.String does (RFC 5952, IPv4-mapped as dotted) and URIs last", async () => {
    const der = await issueLeaf(await generateKeys(), {
      subject: nameDer([[OID.CN, "ip"]]),
      extensions: [
        rawSan(
          [0x86, ia5("spiffe://bank.example/edge")],
          [0x87, hex("20010DB8000000000001000000000001")],
          [0x87, hex("00000000000000000000FFFFC0000201")],
          [0x87, hex("20010DB8000000010000000000000000")],
          [0x82, ia5("edge.bank.example")],
        ),
      ],
    });
    const value = traefikInfo([der], { serialNumber: false, notBefore: false, notAfter: false, sans: true });
    expect(unescape(value)).toBe('SAN="edge.bank.example,2001:db8::1:0:0:1,192.0.2.1,2001:db8:0:1::,spiffe://bank.example/edge"');
  });

  it("joins the certificates with ',' leaf first, and sends an empty field list as an empty value", async () => {
    const keys = await generateKeys();
    const leaf = await issueLeaf(keys, { subject: nameDer([[OID.CN, "leaf"]]) });
    const ca = await issueLeaf(keys, { subject: nameDer([[OID.CN, "ca"]]) });
    const options = { subject: ["CN"], serialNumber: false, notBefore: false, notAfter: false, sans: false } as const;
    expect(unescape(traefikInfo([leaf, ca], options))).toBe('Subject="CN=leaf",Subject="CN=ca"');
    expect(traefikInfo([leaf, ca], { ...options, subject: ["DC"] })).toBe("%2C");
  });

  it("refuses a certificate that does not parse with CERT_MALFORMED", () => {
    expect(() => traefikInfo([Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x01)], ALL)).toThrow(EdgeError);
  });
});

describe("traefikInfo in a profile", () => {
  it("is required by source traefik-info and refused elsewhere, with the JSON path", () => {
    const missing = headerSchema.safeParse({ name: "x-forwarded-tls-client-cert-info", source: "traefik-info" });
    expect(missing.success).toBe(false);
    expect(missing.error!.issues.map((i) => [i.path.join("."), i.message])).toEqual([["traefikInfo", "required for source 'traefik-info'"]]);
    const elsewhere = headerSchema.safeParse({ name: "x-a", source: "leaf", encoding: "der-base64", traefikInfo: { sans: true } });
    expect(elsewhere.error!.issues.map((i) => [i.path.join("."), i.message])).toEqual([["traefikInfo", "not used by source 'leaf'"]]);
  });

  it("has no issuer OU, as Traefik's issuer options have none", () => {
    const result = headerSchema.safeParse({ name: "x-i", source: "traefik-info", traefikInfo: { issuer: ["CN", "OU"] } });
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]!.path).toEqual(["traefikInfo", "issuer", 1]);
  });
});
