import { X509Certificate, createHash } from "node:crypto";
import { AsnConvert } from "@peculiar/asn1-schema";
import { Certificate } from "@peculiar/asn1-x509";
import { describe, expect, it } from "vitest";
import { EdgeError } from "../../src/errors.js";
import { parseCertInfo } from "../../src/pki/certificate.js";
import {
  ProfileDecodeError,
  decodeCertificates,
  encodeCertificate,
  encodeCertificates,
  formatDigest,
  formatName,
  formatSerial,
  formatTime,
  isSafeFieldValue,
  subjectAltNames,
  type CertEncoding,
} from "../../src/profiles/formats.js";
import { OID, generateKeys, issueLeaf, nameDer } from "../identity/certificates.js";

// RFC 9440 Appendix A, Figure 1: client certificate, intermediate, root (PEM exactly as printed there).
const RFC9440_PEMS = [
  [
    "MIIBqDCCAU6gAwIBAgIBBzAKBggqhkjOPQQDAjA6MRswGQYDVQQKDBJMZXQncyBB",
    "dXRoZW50aWNhdGUxGzAZBgNVBAMMEkxBIEludGVybWVkaWF0ZSBDQTAeFw0yMDAx",
    "MTQyMjU1MzNaFw0yMTAxMjMyMjU1MzNaMA0xCzAJBgNVBAMMAkJDMFkwEwYHKoZI",
    "zj0CAQYIKoZIzj0DAQcDQgAE8YnXXfaUgmnMtOXU/IncWalRhebrXmckC8vdgJ1p",
    "5Be5F/3YC8OthxM4+k1M6aEAEFcGzkJiNy6J84y7uzo9M6NyMHAwCQYDVR0TBAIw",
    "ADAfBgNVHSMEGDAWgBRm3WjLa38lbEYCuiCPct0ZaSED2DAOBgNVHQ8BAf8EBAMC",
    "BsAwEwYDVR0lBAwwCgYIKwYBBQUHAwIwHQYDVR0RAQH/BBMwEYEPYmRjQGV4YW1w",
    "bGUuY29tMAoGCCqGSM49BAMCA0gAMEUCIBHda/r1vaL6G3VliL4/Di6YK0Q6bMje",
    "SkC3dFCOOB8TAiEAx/kHSB4urmiZ0NX5r5XarmPk0wmuydBVoU4hBVZ1yhk=",
  ],
  [
    "MIIB5jCCAYugAwIBAgIBFjAKBggqhkjOPQQDAjBWMQswCQYDVQQGEwJVUzEbMBkG",
    "A1UECgwSTGV0J3MgQXV0aGVudGljYXRlMSowKAYDVQQDDCFMZXQncyBBdXRoZW50",
    "aWNhdGUgUm9vdCBBdXRob3JpdHkwHhcNMjAwMTE0MjEzMjMwWhcNMzAwMTExMjEz",
    "MjMwWjA6MRswGQYDVQQKDBJMZXQncyBBdXRoZW50aWNhdGUxGzAZBgNVBAMMEkxB",
    "IEludGVybWVkaWF0ZSBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABJf+aA54",
    "RC5pyLAR5yfXVYmNpgd+CGUTDp2KOGhc0gK91zxhHesEYkdXkpS2UN8Kati+yHtW",
    "CV3kkhCngGyv7RqjZjBkMB0GA1UdDgQWBBRm3WjLa38lbEYCuiCPct0ZaSED2DAf",
    "BgNVHSMEGDAWgBTEA2Q6eecKu9g9yb5glbkhhVINGDASBgNVHRMBAf8ECDAGAQH/",
    "AgEAMA4GA1UdDwEB/wQEAwIBhjAKBggqhkjOPQQDAgNJADBGAiEA5pLvaFwRRkxo",
    "mIAtDIwg9D7gC1xzxBl4r28EzmSO1pcCIQCJUShpSXO9HDIQMUgH69fNDEMHXD3R",
    "RX5gP7kuu2KGMg==",
  ],
  [
    "MIICBjCCAaygAwIBAgIJAKS0yiqKtlhoMAoGCCqGSM49BAMCMFYxCzAJBgNVBAYT",
    "AlVTMRswGQYDVQQKDBJMZXQncyBBdXRoZW50aWNhdGUxKjAoBgNVBAMMIUxldCdz",
    "IEF1dGhlbnRpY2F0ZSBSb290IEF1dGhvcml0eTAeFw0yMDAxMTQyMTI1NDVaFw00",
    "MDAxMDkyMTI1NDVaMFYxCzAJBgNVBAYTAlVTMRswGQYDVQQKDBJMZXQncyBBdXRo",
    "ZW50aWNhdGUxKjAoBgNVBAMMIUxldCdzIEF1dGhlbnRpY2F0ZSBSb290IEF1dGhv",
    "cml0eTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABFoaHU+Z5bPKmGzlYXtCf+E6",
    "HYj62fORaHDOrt+yyh3H/rTcs7ynFfGn+gyFsrSP3Ez88rajv+U2NfD0o0uZ4Pmj",
    "YzBhMB0GA1UdDgQWBBTEA2Q6eecKu9g9yb5glbkhhVINGDAfBgNVHSMEGDAWgBTE",
    "A2Q6eecKu9g9yb5glbkhhVINGDAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQE",
    "AwIBhjAKBggqhkjOPQQDAgNIADBFAiEAmAeg1ycKHriqHnaD4M/UDBpQRpkmdcRF",
    "YGMg1Qyrkx4CIB4ivz3wQcQkGhcsUZ1SOImd/lq1Q0FLf09rGfLQPWDc",
  ],
].map((lines) => `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----\n`);
const [LEAF_PEM = "", INTERMEDIATE_PEM = "", ROOT_PEM = ""] = RFC9440_PEMS;
const der = (pem: string) => new Uint8Array(new X509Certificate(pem).raw);
const LEAF = der(LEAF_PEM);
const CHAIN = [LEAF, der(INTERMEDIATE_PEM), der(ROOT_PEM)];
const body = (pem: string) => pem.split("\n").slice(1, -2).join("");

// RFC 9440 Appendix A, Figures 2 and 3, with the line breaks "added for display" removed.
const RFC9440_CLIENT_CERT = `:${body(LEAF_PEM)}:`;
const RFC9440_CLIENT_CERT_CHAIN = `:${body(INTERMEDIATE_PEM)}:, :${body(ROOT_PEM)}:`;

// The leaf's PEM as nginx $ssl_client_escaped_cert writes it: nginx src/core/ngx_string.c ngx_escape_uri,
// table uri_component ("not ALPHA, DIGIT, "-", ".", "_", "~""), hex "0123456789ABCDEF". Cross-checked with
// Python urllib.parse.quote(pem, safe="") and Envoy's StrReplaceAll table (\n %0A, " " %20, + %2B, / %2F, = %3D).
const NGINX_ESCAPED_LEAF = [
  "-----BEGIN%20CERTIFICATE-----",
  "MIIBqDCCAU6gAwIBAgIBBzAKBggqhkjOPQQDAjA6MRswGQYDVQQKDBJMZXQncyBB",
  "dXRoZW50aWNhdGUxGzAZBgNVBAMMEkxBIEludGVybWVkaWF0ZSBDQTAeFw0yMDAx",
  "MTQyMjU1MzNaFw0yMTAxMjMyMjU1MzNaMA0xCzAJBgNVBAMMAkJDMFkwEwYHKoZI",
  "zj0CAQYIKoZIzj0DAQcDQgAE8YnXXfaUgmnMtOXU%2FIncWalRhebrXmckC8vdgJ1p",
  "5Be5F%2F3YC8OthxM4%2Bk1M6aEAEFcGzkJiNy6J84y7uzo9M6NyMHAwCQYDVR0TBAIw",
  "ADAfBgNVHSMEGDAWgBRm3WjLa38lbEYCuiCPct0ZaSED2DAOBgNVHQ8BAf8EBAMC",
  "BsAwEwYDVR0lBAwwCgYIKwYBBQUHAwIwHQYDVR0RAQH%2FBBMwEYEPYmRjQGV4YW1w",
  "bGUuY29tMAoGCCqGSM49BAMCA0gAMEUCIBHda%2Fr1vaL6G3VliL4%2FDi6YK0Q6bMje",
  "SkC3dFCOOB8TAiEAx%2FkHSB4urmiZ0NX5r5XarmPk0wmuydBVoU4hBVZ1yhk%3D",
  "-----END%20CERTIFICATE-----",
  "",
].join("%0A");

const ENCODINGS: readonly CertEncoding[] = ["sf-binary", "der-base64", "pem-urlencoded", "pem-urlencoded-aws", "pem-tab", "pem-space"];

describe("encodeCertificate: one certificate, byte-exact with its product", () => {
  it("sf-binary is RFC 9440 Appendix A's Client-Cert value", () => {
    expect(encodeCertificate(LEAF, "sf-binary")).toBe(RFC9440_CLIENT_CERT);
  });

  it("der-base64 is the PEM body on one line (HAProxy ssl_c_der,base64)", () => {
    expect(encodeCertificate(LEAF, "der-base64")).toBe(body(LEAF_PEM));
  });

  it("writes the PEM as OpenSSL PEM_write_bio_X509 does (Node's X509Certificate#toString)", () => {
    const pem = decodeURIComponent(encodeCertificate(LEAF, "pem-urlencoded"));
    expect(pem).toBe(LEAF_PEM);
    expect(pem).toBe(new X509Certificate(LEAF).toString());
  });

  it("pem-urlencoded is nginx $ssl_client_escaped_cert", () => {
    expect(encodeCertificate(LEAF, "pem-urlencoded")).toBe(NGINX_ESCAPED_LEAF);
  });

  it("pem-urlencoded-aws leaves + = / as they are (ALB: 'URL-encoded PEM … with +=/ as safe characters')", () => {
    const aws = encodeCertificate(LEAF, "pem-urlencoded-aws");
    expect(aws).toBe(NGINX_ESCAPED_LEAF.replaceAll("%2B", "+").replaceAll("%2F", "/").replaceAll("%3D", "="));
    // The shape of a value captured from an ALB (as reported in wso2/api-manager#5085; trailing %0A included).
    expect(aws).toMatch(/^-----BEGIN%20CERTIFICATE-----%0AMIIB[A-Za-z0-9+/=%]+%0A-----END%20CERTIFICATE-----%0A$/);
    expect(aws).toContain("M4+k1M6");
  });

  it("pem-tab is nginx ngx_ssl_get_certificate: final LF dropped, a TAB after every other LF", () => {
    const tab = encodeCertificate(LEAF, "pem-tab");
    expect(tab.startsWith("-----BEGIN CERTIFICATE-----\n\tMIIBqDCCAU6g")).toBe(true);
    expect(tab.endsWith("VoU4hBVZ1yhk=\n\t-----END CERTIFICATE-----")).toBe(true);
    expect(tab.split("\n\t")).toEqual(LEAF_PEM.slice(0, -1).split("\n"));
    // The LFs make it unsendable by a strict HTTP implementation: the engine must refuse it.
    expect(isSafeFieldValue(tab)).toBe(false);
  });

  it("pem-space is Apache mod_headers unwrap_header: each LF a space, one left after the END line", () => {
    const space = encodeCertificate(LEAF, "pem-space");
    expect(space.startsWith("-----BEGIN CERTIFICATE----- MIIBqDCCAU6gAwIBAgIBBzAKBggqhkjOPQQDAjA6MRswGQYDVQQKDBJMZXQncyBB dXRo")).toBe(true);
    expect(space.endsWith(" SkC3dFCOOB8TAiEAx/kHSB4urmiZ0NX5r5XarmPk0wmuydBVoU4hBVZ1yhk= -----END CERTIFICATE----- ")).toBe(true);
    expect(isSafeFieldValue(space)).toBe(true);
  });

  it("refuses bytes that are not one DER SEQUENCE", () => {
    expect(() => encodeCertificate(Uint8Array.of(0x04, 0x00), "sf-binary")).toThrow(EdgeError);
    expect(() => encodeCertificate(Uint8Array.of(...LEAF, 0x00), "der-base64")).toThrow(EdgeError);
  });
});

describe("the RFC 9440 leaf's fields as OpenSSL 3.0 prints them", () => {
  // `openssl x509 -noout -subject -issuer -serial -startdate -enddate -fingerprint -sha256 -nameopt RFC2253`
  // (and `-nameopt compat`, `-sha1`, `openssl dgst -sha256 -binary | base64`) on Figure 1's leaf.
  const info = parseCertInfo(LEAF);
  const serial = new Uint8Array(AsnConvert.parse(LEAF, Certificate).tbsCertificate.serialNumber);

  it("names, serial and validity", () => {
    expect(formatName(info.subjectDer, "rfc2253")).toBe("CN=BC");
    expect(formatName(info.issuerDer, "rfc2253")).toBe("CN=LA Intermediate CA,O=Let's Authenticate");
    expect(formatName(info.issuerDer, "oneline")).toBe("/O=Let's Authenticate/CN=LA Intermediate CA");
    expect(formatName(info.subjectDer, "der-base64")).toBe("MA0xCzAJBgNVBAMMAkJD");
    expect(formatSerial(serial, "hex-upper")).toBe("07");
    expect(formatTime(info.notBefore, "openssl")).toBe("Jan 14 22:55:33 2020 GMT");
    expect(formatTime(info.notAfter, "openssl")).toBe("Jan 23 22:55:33 2021 GMT");
  });

  it("fingerprints: Envoy Hash / CloudFront (lowercase hex), nginx SHA-1, GCP base64", () => {
    const sha256 = createHash("sha256").update(LEAF).digest();
    expect(formatDigest(sha256, "hex-upper-colon")).toBe(
      "BF:AF:1F:7E:07:0F:9F:A8:DD:62:90:5F:15:8D:A7:3F:84:A1:13:66:24:FB:AF:CC:93:93:C8:F7:28:7A:69:EB",
    );
    expect(formatDigest(sha256, "hex-lower")).toBe("bfaf1f7e070f9fa8dd62905f158da73f84a1136624fbafcc9393c8f7287a69eb");
    expect(formatDigest(sha256, "base64")).toBe("v68ffgcPn6jdYpBfFY2nP4ShE2Yk+6/Mk5PI9yh6aes=");
    expect(formatDigest(createHash("sha1").update(LEAF).digest(), "hex-lower")).toBe("ca083f269fb4fc71920e94070eaacb731929e6f9");
  });

  it("has only an rfc822Name SAN, so no DNS names, IP addresses or URIs", () => {
    const printed = new X509Certificate(LEAF).subjectAltName!;
    expect(printed).toMatch(/^email:[^,]+$/);
    expect(subjectAltNames(LEAF)).toEqual({ dns: [], email: [printed.slice("email:".length)], ip: [], uri: [] });
  });
});

describe("encodeCertificates: chains", () => {
  it("sf-binary joined with ', ' is RFC 9440 Appendix A's Client-Cert-Chain value", () => {
    expect(encodeCertificates(CHAIN.slice(1), "sf-binary", ", ")).toBe(RFC9440_CLIENT_CERT_CHAIN);
  });

  it("joins der-base64 with the separator (Traefik X-Forwarded-Tls-Client-Cert: ',')", () => {
    expect(encodeCertificates(CHAIN, "der-base64", ",")).toBe(RFC9440_PEMS.map(body).join(","));
  });

  it("percent-encodes the concatenated PEMs as one string and ignores the separator (Envoy Chain=)", () => {
    const chain = encodeCertificates(CHAIN, "pem-urlencoded", ", ");
    expect(chain.startsWith(NGINX_ESCAPED_LEAF)).toBe(true);
    expect(decodeURIComponent(chain)).toBe(RFC9440_PEMS.join(""));
    expect(encodeCertificates(CHAIN, "pem-urlencoded-aws", "|")).not.toContain("|");
  });

  it("writes no certificates as the empty string", () => {
    for (const encoding of ENCODINGS) expect(encodeCertificates([], encoding, ", ")).toBe("");
  });
});

describe("decodeCertificates: round trips", () => {
  it.each(ENCODINGS)("%s: one certificate and a chain come back byte for byte, in order", async (encoding) => {
    const generated = await issueLeaf(await generateKeys(), { subject: nameDer([[OID.CN, "round trip"]]) });
    for (const cert of [LEAF, generated]) expect(decodeCertificates(encodeCertificate(cert, encoding), encoding)).toEqual([cert]);
    expect(decodeCertificates(encodeCertificates(CHAIN, encoding, ", "), encoding)).toEqual(CHAIN);
    expect(decodeCertificates(encodeCertificates([generated, ...CHAIN], encoding, ","), encoding)).toEqual([generated, ...CHAIN]);
  });
});

describe("decodeCertificates: real-world variants (nginx tab PEM, Apache spaces and (null), ALB unescaped '+')", () => {
  it("reads RFC 9440's Client-Cert-Chain, also when its field lines were joined with ','", () => {
    const [, intermediate, root] = CHAIN;
    expect(decodeCertificates(RFC9440_CLIENT_CERT_CHAIN, "sf-binary")).toEqual([intermediate, root]);
    expect(decodeCertificates(`:${body(INTERMEDIATE_PEM)}:,:${body(ROOT_PEM)}:`, "sf-binary")).toEqual([intermediate, root]);
    expect(decodeCertificates(`\t:${body(INTERMEDIATE_PEM)}:\t,  :${body(ROOT_PEM)}: `, "sf-binary")).toEqual([intermediate, root]);
    // RFC 8941 §4.2.7: parsers should not fail when "=" padding is missing.
    expect(decodeCertificates(`:${body(ROOT_PEM).replace(/=+$/, "")}:`, "sf-binary")).toEqual([root]);
  });

  it("keeps '+' as '+' in an ALB value (never form-decoding: AWS ALB leaves '+' unescaped)", () => {
    const alb = encodeCertificate(LEAF, "pem-urlencoded-aws");
    expect(alb).toContain("+");
    expect(decodeCertificates(alb, "pem-urlencoded-aws")).toEqual([LEAF]);
    // What a form decoder would have handed over instead: the '+' became a space, and the base64 no
    // longer decodes to a certificate, which is refused rather than read as something else.
    const formDecoded = new URLSearchParams(`v=${alb}`).get("v") ?? "";
    expect(formDecoded).not.toContain("+");
    expect(() => decodeCertificates(formDecoded, "pem-space")).toThrow(ProfileDecodeError);
  });

  it("reads Apache's (null) and the empty value as no certificate", () => {
    for (const encoding of ENCODINGS) {
      for (const value of ["(null)", "", "  "]) expect(decodeCertificates(value, encoding)).toEqual([]);
    }
  });

  it("reads PEM whose line breaks became tabs or spaces", () => {
    expect(decodeCertificates(LEAF_PEM.replaceAll("\n", "\t"), "pem-tab")).toEqual([LEAF]);
    expect(decodeCertificates(LEAF_PEM.replaceAll("\n", " "), "pem-space")).toEqual([LEAF]);
    expect(decodeCertificates(LEAF_PEM.replaceAll("\n", "\r\n"), "pem-space")).toEqual([LEAF]);
    // An obs-fold unfolded by the receiver (RFC 9112 §5.2): each "\n\t" replaced by a space.
    expect(decodeCertificates(encodeCertificate(LEAF, "pem-tab").replaceAll("\n\t", " "), "pem-tab")).toEqual([LEAF]);
  });

  it("reads der-base64 with PEM armour, whitespace, Traefik's ',' list and its URL-escaped regression", () => {
    expect(decodeCertificates(LEAF_PEM, "der-base64")).toEqual([LEAF]);
    expect(decodeCertificates(LEAF_PEM.split("\n").slice(1, -2).join("\r\n "), "der-base64")).toEqual([LEAF]);
    expect(decodeCertificates(RFC9440_PEMS.map(body).join(", "), "der-base64")).toEqual(CHAIN);
    expect(decodeCertificates(encodeURIComponent(RFC9440_PEMS.map(body).join(",")), "der-base64")).toEqual(CHAIN);
  });

  it("splits HAProxy's concatenated DER (ssl_c_chain_der,base64)", () => {
    const concatenated = Buffer.concat(CHAIN.slice(1)).toString("base64");
    expect(decodeCertificates(concatenated, "der-base64")).toEqual(CHAIN.slice(1));
  });

  it("reads a raw (not percent-encoded) PEM chain given as pem-urlencoded", () => {
    expect(decodeCertificates(RFC9440_PEMS.join(""), "pem-urlencoded")).toEqual(CHAIN);
  });
});

describe("decodeCertificates: malformed values fail closed", () => {
  const leafBody = body(LEAF_PEM);
  const cases: readonly (readonly [what: string, encoding: CertEncoding, value: string])[] = [
    ["base64 outside the alphabet", "der-base64", "SECRET-TOKEN-not*base64"],
    ["base64 of impossible length", "der-base64", "QUJDRE"],
    ["a Byte Sequence without colons", "sf-binary", leafBody],
    ["a Byte Sequence with parameters", "sf-binary", `${RFC9440_CLIENT_CERT};a=1`],
    ["an empty list member", "sf-binary", `${RFC9440_CLIENT_CERT},,${RFC9440_CLIENT_CERT}`],
    ["two certificates in one Byte Sequence", "sf-binary", `:${Buffer.concat(CHAIN.slice(0, 2)).toString("base64")}:`],
    ["a Name, not a Certificate (outer SEQUENCE only)", "sf-binary", ":MA0xCzAJBgNVBAMMAkJD:"],
    ["truncated DER", "der-base64", Buffer.from(LEAF.subarray(0, 200)).toString("base64")],
    ["trailing garbage after the DER", "sf-binary", `:${Buffer.from([...LEAF, 0x00, 0x00]).toString("base64")}:`],
    ["not DER at all", "der-base64", Buffer.from("SECRET-TOKEN").toString("base64")],
    ["a bad percent escape", "pem-urlencoded", `${NGINX_ESCAPED_LEAF}%ZZ`],
    ["a truncated UTF-8 escape", "pem-urlencoded-aws", "%E0%A4%A"],
    ["no PEM armour", "pem-space", leafBody],
    ["text outside the PEM blocks", "pem-tab", `SECRET-TOKEN ${LEAF_PEM}`],
    ["another PEM type", "pem-space", LEAF_PEM.replaceAll("CERTIFICATE", "PRIVATE KEY")],
    ["a PEM body that is not base64", "pem-space", "-----BEGIN CERTIFICATE----- SECRET*TOKEN -----END CERTIFICATE-----"],
  ];

  it.each(cases)("%s (%s) throws ProfileDecodeError naming the encoding, not the value", (_what, encoding, value) => {
    let error: unknown;
    try {
      decodeCertificates(value, encoding);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ProfileDecodeError);
    const decodeError = error as ProfileDecodeError;
    expect(decodeError.encoding).toBe(encoding);
    expect(decodeError.message.startsWith(`${encoding}: `)).toBe(true);
    expect(decodeError.message).not.toContain("SECRET");
    expect(decodeError.message).not.toContain(leafBody.slice(0, 16));
  });
});
