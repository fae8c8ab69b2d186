import { createHash, createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import * as tls from "node:tls";
import { beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { isValidCnpj } from "../../src/identity/cnpj.js";
import { compactVerify, importJWK } from "jose";
import { addHours, generateTestPki, issueClientCertificate, loadTestCa, loadTestPki, ofbSubject, TEST_PKI_VERSION, testMessageSigner, type TestPkiManifest } from "../../src/pki/test-pki/index.js";

// Independent cross-checks: Node's X509Certificate (OpenSSL) and a minimal DER reader, never @peculiar/x509.

interface Tlv {
  readonly tag: number;
  readonly content: Buffer;
  readonly end: number;
}

function tlv(buf: Buffer, offset = 0): Tlv {
  const tag = buf[offset]!;
  let length = buf[offset + 1]!;
  let header = 2;
  if (length & 0x80) {
    const n = length & 0x7f;
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + buf[offset + 2 + i]!;
    header += n;
  }
  return { tag, content: buf.subarray(offset + header, offset + header + length), end: offset + header + length };
}

function children(content: Buffer): Tlv[] {
  const out: Tlv[] = [];
  for (let offset = 0; offset < content.length; offset = out[out.length - 1]!.end) out.push(tlv(content, offset));
  return out;
}

function oid(content: Buffer): string {
  const arcs = [Math.floor(content[0]! / 40), content[0]! % 40];
  let value = 0;
  for (const byte of content.subarray(1)) {
    value = value * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      arcs.push(value);
      value = 0;
    }
  }
  return arcs.join(".");
}

function tbs(cert: X509Certificate): Tlv[] {
  const fields = children(children(tlv(cert.raw).content)[0]!.content);
  return fields[0]!.tag === 0xa0 ? fields.slice(1) : fields;
}

/** Subject RDNs in DER order: OID, ASN.1 tag of the value, value text. */
function subjectRdns(cert: X509Certificate) {
  return children(tbs(cert)[4]!.content).map((set) => {
    const [type, value] = children(children(set.content)[0]!.content);
    return { oid: oid(type!.content), tag: value!.tag, value: value!.content.toString("utf8") };
  });
}

function extensions(cert: X509Certificate) {
  const block = tbs(cert).find((field) => field.tag === 0xa3);
  if (!block) return [];
  return children(children(block.content)[0]!.content).map((ext) => {
    const parts = children(ext.content);
    const critical = parts.length === 3 && parts[1]!.content[0] === 0xff;
    return { oid: oid(parts[0]!.content), critical, value: parts[parts.length - 1]!.content };
  });
}

function extension(cert: X509Certificate, id: string) {
  return extensions(cert).find((ext) => ext.oid === id);
}

function signatureOid(cert: X509Certificate): string {
  return oid(children(children(tlv(cert.raw).content)[1]!.content)[0]!.content);
}

/** keyUsage bit n (RFC 5280 §4.2.1.3: 0 digitalSignature, 2 keyEncipherment, 5 keyCertSign, 6 cRLSign). */
function keyUsageBits(cert: X509Certificate): number[] {
  const ku = extension(cert, "2.5.29.15");
  if (!ku) return [];
  const bits = tlv(ku.value).content.subarray(1);
  return [...Array(bits.length * 8).keys()].filter((n) => (bits[n >> 3]! >> (7 - (n & 7))) & 1);
}

function pathLength(cert: X509Certificate): number | undefined {
  const fields = children(tlv(extension(cert, "2.5.29.19")!.value).content);
  const integer = fields.find((field) => field.tag === 0x02);
  return integer?.content[0];
}

function certs(pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? []).map((block) => new X509Certificate(block));
}

const SHA256_RSA = "1.2.840.113549.1.1.11";
const SHA512_RSA = "1.2.840.113549.1.1.13";
const SHA1_RSA = "1.2.840.113549.1.1.5";
const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
const SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
const UTF8 = 0x0c;
const PRINTABLE = 0x13;
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const UUID_V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const EXPECTED: Record<string, string> = {
  "participant-a": "accept",
  "participant-b": "accept",
  "participant-c": "accept",
  "participant-pending": "DIRECTORY_ORG_PENDING",
  "participant-withdrawn": "DIRECTORY_ORG_WITHDRAWN",
  "participant-no-roles": "DIRECTORY_ROLE_MISSING",
  "participant-unknown-org": "DIRECTORY_ORG_UNKNOWN",
  "participant-inactive-key": "DIRECTORY_KEY_INACTIVE",
  "participant-unregistered-key": "DIRECTORY_KEY_UNREGISTERED",
  expired: "CERT_EXPIRED",
  "not-yet-valid": "CERT_NOT_YET_VALID",
  "server-auth-only": "CERT_INVALID_PURPOSE",
  "no-eku": "CERT_EKU_CLIENT_AUTH_MISSING",
  "no-digital-signature": "CERT_KEY_USAGE_INVALID",
  "rsa-1024": "CERT_KEY_TOO_WEAK",
  sha1: "CERT_SIGNATURE_WEAK",
  "self-signed": "CERT_SELF_SIGNED",
  "other-ca": "CERT_UNTRUSTED",
  "expired-intermediate": "CERT_EXPIRED",
  "non-ca-issuer": "CERT_CHAIN_INVALID",
  "pathlen-exceeded": "CERT_CHAIN_INVALID",
  "unknown-critical-extension": "CERT_CHAIN_INVALID",
  "no-uid": "IDENTITY_SOFTWARE_STATEMENT_MISSING",
  "no-org-id": "IDENTITY_ORGANISATION_MISSING",
  "open-insurance": "IDENTITY_OPEN_INSURANCE_NOT_ALLOWED",
  "cnpj-invalid": "accept",
  "participant-printable-issuer": "accept",
  "participant-retired-ac": "accept",
  "e-cnpj": "CERT_UNTRUSTED",
  revoked: "CERT_REVOKED",
  denied: "CERT_DENIED",
};

/** The outcomes that differ with the other trust-anchor files (the rest are as with the root only). */
const EXPECTED_WITH: Record<"bundle" | "allRoots", Record<string, string>> = {
  bundle: { "participant-retired-ac": "CERT_ISSUER_NOT_ALLOWED" },
  allRoots: { "other-ca": "CERT_HIERARCHY_NOT_TRANSPORT", "e-cnpj": "CERT_HIERARCHY_NOT_TRANSPORT" },
};
const NAMES = Object.keys(EXPECTED);

let out: string;
let pki: TestPkiManifest;
let now: Date;
const pem = (path: string) => readFile(path, "utf8");
const leaf = async (name: string) => new X509Certificate(await readFile(pki.clients[name]!.cert));
const chain = async (name: string) => certs(await pem(pki.clients[name]!.chain));
const ca = async (which: keyof TestPkiManifest["ca"]) => new X509Certificate(await readFile(pki.ca[which].cert));

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), "ofb-test-pki-"));
  now = new Date(Math.floor(Date.now() / 1000) * 1000);
  pki = await generateTestPki({ out, now, hostnames: ["edge.ofb-edge.test"] });
});

describe("CA hierarchy", () => {
  it("root: self-signed RSA 4096, sha512WithRSAEncryption, CA:TRUE and keyCertSign+cRLSign critical, clearly a test root", async () => {
    const root = await ca("root");
    expect(root.checkIssued(root)).toBe(true);
    expect(root.verify(root.publicKey)).toBe(true);
    expect(root.publicKey.asymmetricKeyDetails?.modulusLength).toBe(4096);
    expect(signatureOid(root)).toBe(SHA512_RSA);
    expect(root.ca).toBe(true);
    expect(extension(root, "2.5.29.19")?.critical).toBe(true);
    expect(extension(root, "2.5.29.15")?.critical).toBe(true);
    expect(keyUsageBits(root)).toEqual([5, 6]);
    expect(extension(root, "2.5.29.14")).toBeDefined();
    expect(root.subject).toContain("CN=Autoridade Certificadora Raiz Brasileira v10 TESTE");
    expect(root.subject).toContain("O=ICP-Brasil TESTE");
    expect(new Date(root.validFrom).getTime()).toBe(now.getTime() - 86_400_000);
  });

  it("ssl-ac: under the root, RSA 2048 SHA-256, pathlen 0, no EKU, AKI/SKI, CRL DP root.crl", async () => {
    const [root, sslAc] = [await ca("root"), await ca("sslAc")];
    expect(sslAc.checkIssued(root)).toBe(true);
    expect(sslAc.verify(root.publicKey)).toBe(true);
    expect(sslAc.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(signatureOid(sslAc)).toBe(SHA256_RSA);
    expect(sslAc.ca).toBe(true);
    expect(pathLength(sslAc)).toBe(0);
    expect(keyUsageBits(sslAc)).toEqual([5, 6]);
    expect(extension(sslAc, "2.5.29.37")).toBeUndefined();
    expect(extension(sslAc, "2.5.29.35")).toBeDefined();
    expect(extension(sslAc, "2.5.29.31")?.value.toString("latin1")).toContain("http://127.0.0.1:8480/crl/root.crl");
    expect(sslAc.subject).toContain("OU=Autoridade Certificadora Raiz Brasileira v10 TESTE");
    expect(sslAc.subject).toContain("CN=AC TESTE SSL EV G4");
  });

  it("trust-anchors.pem holds the root only", async () => {
    const anchors = certs(await pem(pki.trustAnchors));
    expect(anchors).toHaveLength(1);
    expect(anchors[0]!.fingerprint256).toBe((await ca("root")).fingerprint256);
  });

  it("trust-anchor files: the root; the root and its transport ACs (retired-ac left out); every root of the PKI", async () => {
    const fingerprints = async (file: string) => certs(await pem(file)).map((c) => c.fingerprint256);
    const of = async (...which: (keyof TestPkiManifest["ca"])[]) => Promise.all(which.map(async (w) => (await ca(w)).fingerprint256));
    expect(pki.anchorFiles.root).toBe(pki.trustAnchors);
    expect(await fingerprints(pki.anchorFiles.bundle)).toEqual(await of("root", "sslAc", "stringTypesAc"));
    expect(await fingerprints(pki.anchorFiles.allRoots)).toEqual(await of("root", "v5Root", "otherRoot"));
  });

  it("v5-like hierarchy: a second root 'Raiz Brasileira v5 TESTE' and 'AC Secretaria da Receita Federal do Brasil v4 TESTE' under it", async () => {
    const [v5Root, v5Ac, root] = [await ca("v5Root"), await ca("v5Ac"), await ca("root")];
    expect(v5Root.checkIssued(v5Root)).toBe(true);
    expect(v5Root.verify(v5Root.publicKey)).toBe(true);
    expect(v5Root.subject).toContain("CN=Autoridade Certificadora Raiz Brasileira v5 TESTE");
    expect(signatureOid(v5Root)).toBe(SHA512_RSA);
    expect(v5Ac.checkIssued(v5Root)).toBe(true);
    expect(v5Ac.verify(v5Root.publicKey)).toBe(true);
    expect(v5Ac.checkIssued(root)).toBe(false);
    expect(v5Ac.subject).toContain("CN=AC Secretaria da Receita Federal do Brasil v4 TESTE");
    expect(v5Ac.subject).toContain("OU=Autoridade Certificadora Raiz Brasileira v5 TESTE");
  });

  it("string-types-ac: its own subject is UTF8String; retired-ac: a valid CA under the root", async () => {
    const [root, stringTypesAc, retiredAc] = [await ca("root"), await ca("stringTypesAc"), await ca("retiredAc")];
    expect(subjectRdns(stringTypesAc).map((rdn) => rdn.tag)).toEqual([PRINTABLE, UTF8, UTF8, UTF8]);
    expect(stringTypesAc.verify(root.publicKey)).toBe(true);
    expect(retiredAc.verify(root.publicKey)).toBe(true);
    expect(retiredAc.ca).toBe(true);
    expect(new Date(retiredAc.validTo).getTime()).toBeGreaterThan(now.getTime());
  });

  it("bad CAs: expired-ac expired yesterday, non-ca-issuer is CA:FALSE, sub-ac sits under ssl-ac, other-ca is unrelated", async () => {
    const [root, sslAc, expiredAc, nonCa, subAc, otherRoot, otherAc] = await Promise.all(
      (["root", "sslAc", "expiredAc", "nonCaIssuer", "subAc", "otherRoot", "otherAc"] as const).map(ca),
    );
    expect(new Date(expiredAc!.validTo).getTime()).toBe(now.getTime() - 86_400_000);
    expect(expiredAc!.verify(root!.publicKey)).toBe(true);
    expect(nonCa!.ca).toBe(false);
    expect(nonCa!.verify(root!.publicKey)).toBe(true);
    expect(subAc!.ca).toBe(true);
    expect(subAc!.checkIssued(sslAc!)).toBe(true);
    expect(otherAc!.checkIssued(otherRoot!)).toBe(true);
    expect(otherRoot!.checkIssued(otherRoot!)).toBe(true);
    expect(otherAc!.checkIssued(root!)).toBe(false);
  });

  it("server: leaf then ssl-ac, SAN localhost + hostnames + 127.0.0.1 + ::1, EKU serverAuth, matching key", async () => {
    const [serverLeaf, ac, ...rest] = certs(await pem(pki.server.cert));
    expect(rest).toHaveLength(0);
    expect(serverLeaf!.checkIssued(ac!)).toBe(true);
    expect(ac!.fingerprint256).toBe((await ca("sslAc")).fingerprint256);
    expect(serverLeaf!.subject).toBe("CN=localhost");
    expect(serverLeaf!.checkHost("localhost")).toBe("localhost");
    expect(serverLeaf!.checkHost("edge.ofb-edge.test")).toBe("edge.ofb-edge.test");
    expect(serverLeaf!.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(serverLeaf!.checkIP("::1")).toBe("::1");
    expect(serverLeaf!.keyUsage).toEqual([SERVER_AUTH]);
    expect(keyUsageBits(serverLeaf!)).toEqual([0, 2]);
    expect(serverLeaf!.checkPrivateKey(createPrivateKey(await pem(pki.server.key)))).toBe(true);
    expect(pki.server.hostnames).toEqual(["localhost", "edge.ofb-edge.test"]);
  });
});

describe("client certificates", () => {
  it("the manifest lists exactly the catalogue with its expected outcomes, per trust-anchor file", () => {
    expect(Object.fromEntries(Object.entries(pki.clients).map(([name, c]) => [name, c.expect]))).toEqual(EXPECTED);
    for (const [name, c] of Object.entries(pki.clients)) {
      expect(c.expectByAnchorFile, name).toEqual({ root: EXPECTED[name], bundle: EXPECTED_WITH.bundle[name] ?? EXPECTED[name], allRoots: EXPECTED_WITH.allRoots[name] ?? EXPECTED[name] });
    }
  });

  it.each(NAMES)("%s: verifies against its declared issuer; key, thumbprint and serial match; key file 0600", async (name) => {
    const entry = pki.clients[name]!;
    const cert = await leaf(name);
    const [first, issuer] = await chain(name);
    expect(first!.fingerprint256).toBe(cert.fingerprint256);
    if (issuer === undefined) {
      // Self-signed leaf: OpenSSL's checkIssued also wants keyCertSign in the issuer's keyUsage, which a leaf lacks.
      expect(tbs(cert)[2]!.content.equals(tbs(cert)[4]!.content)).toBe(true);
      expect(cert.verify(cert.publicKey)).toBe(true);
    } else {
      expect(cert.checkIssued(issuer)).toBe(true);
      expect(cert.verify(issuer.publicKey)).toBe(true);
    }
    expect(cert.checkPrivateKey(createPrivateKey(await pem(entry.key)))).toBe(true);
    expect(entry.thumbprint).toBe(createHash("sha256").update(cert.raw).digest("base64url"));
    expect(entry.serialNumber).toBe(cert.serialNumber);
    expect((await stat(entry.key)).mode & 0o777).toBe(0o600);
    expect(await pem(entry.key)).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
  });

  it("participant-a: BRCAC defaults and the 2023 standard subject (DER = reverse of the RFC 4514 order)", async () => {
    const cert = await leaf("participant-a");
    const entry = pki.clients["participant-a"]!;
    expect(cert.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(signatureOid(cert)).toBe(SHA256_RSA);
    expect(keyUsageBits(cert)).toEqual([0, 2]);
    expect(extension(cert, "2.5.29.15")?.critical).toBe(true);
    expect(cert.keyUsage).toEqual([CLIENT_AUTH]);
    expect(cert.ca).toBe(false);
    expect(cert.subjectAltName).toBe("DNS:participant-a.tpp.ofb-edge.test");
    expect(extension(cert, "2.5.29.35")).toBeDefined();
    expect(extension(cert, "2.5.29.31")?.value.toString("latin1")).toContain("http://127.0.0.1:8480/crl/ssl-ac.crl");
    expect(new Date(cert.validFrom).getTime()).toBe(now.getTime() - 86_400_000);
    expect(new Date(cert.validTo).getTime()).toBe(now.getTime() + 364 * 86_400_000);
    expect(subjectRdns(cert)).toEqual([
      { oid: "2.5.4.15", tag: UTF8, value: "Private Organization" },
      { oid: "1.3.6.1.4.1.311.60.2.1.3", tag: PRINTABLE, value: "BR" },
      { oid: "2.5.4.5", tag: PRINTABLE, value: entry.cnpj },
      { oid: "2.5.4.6", tag: PRINTABLE, value: "BR" },
      { oid: "2.5.4.10", tag: UTF8, value: "PARTICIPANT A TESTE S/A" },
      { oid: "2.5.4.8", tag: UTF8, value: "SP" },
      { oid: "2.5.4.7", tag: UTF8, value: "São Paulo" },
      { oid: "2.5.4.97", tag: UTF8, value: `OFBBR-${entry.organisationId}` },
      { oid: "0.9.2342.19200300.100.1.1", tag: UTF8, value: entry.softwareStatementId },
      { oid: "2.5.4.3", tag: UTF8, value: "participant-a.tpp.ofb-edge.test" },
    ]);
    expect(entry.organisationId).toMatch(UUID_V5);
    expect(entry.softwareStatementId).toMatch(UUID_V4);
    expect(isValidCnpj(entry.cnpj!)).toBe(true);
  });

  it("participant-b: legacy OU=<orgId>, Soluti pre-2022 order, every value PrintableString (tag 0x13)", async () => {
    const entry = pki.clients["participant-b"]!;
    const rdns = subjectRdns(await leaf("participant-b"));
    expect(rdns.map((rdn) => rdn.oid)).toEqual([
      "2.5.4.6", "2.5.4.10", "2.5.4.8", "2.5.4.7", "2.5.4.11", "2.5.4.5", "2.5.4.3", "0.9.2342.19200300.100.1.1", "2.5.4.15", "1.3.6.1.4.1.311.60.2.1.3",
    ]);
    expect(rdns.every((rdn) => rdn.tag === PRINTABLE)).toBe(true);
    expect(rdns.find((rdn) => rdn.oid === "2.5.4.11")?.value).toBe(entry.organisationId);
    expect(rdns.some((rdn) => rdn.oid === "2.5.4.97")).toBe(false);
  });

  it("participant-c: Serpro reverse order (CN first in DER), Business Entity, alphanumeric CNPJ 12ABC34501DE35", async () => {
    const entry = pki.clients["participant-c"]!;
    const rdns = subjectRdns(await leaf("participant-c"));
    expect(rdns[0]).toEqual({ oid: "2.5.4.3", tag: UTF8, value: "participant-c.tpp.ofb-edge.test" });
    expect(rdns[rdns.length - 1]).toEqual({ oid: "2.5.4.15", tag: UTF8, value: "Business Entity" });
    expect(rdns.find((rdn) => rdn.oid === "2.5.4.5")).toEqual({ oid: "2.5.4.5", tag: PRINTABLE, value: "12ABC34501DE35" });
    expect(entry.cnpj).toBe("12ABC34501DE35");
    expect(isValidCnpj(entry.cnpj!)).toBe(true);
  });

  it("participant-printable-issuer: the issuer field is string-types-ac's name in PrintableString, its subject's bytes differ", async () => {
    const cert = await leaf("participant-printable-issuer");
    const stringTypesAc = await ca("stringTypesAc");
    const issuerField = children(tbs(cert)[2]!.content).map((set) => children(children(set.content)[0]!.content)[1]!.tag);
    expect(issuerField).toEqual([PRINTABLE, PRINTABLE, PRINTABLE, PRINTABLE]);
    expect(tbs(cert)[2]!.content.equals(tbs(stringTypesAc)[4]!.content)).toBe(false);
    expect(cert.issuer).toBe(stringTypesAc.subject);
    expect(cert.checkIssued(stringTypesAc)).toBe(true);
    expect(cert.verify(stringTypesAc.publicKey)).toBe(true);
  });

  it("e-cnpj: an e-CNPJ A1 of the v5 hierarchy — CN 'RAZAO SOCIAL:CNPJ', otherNames 2.16.76.1.3.4/.2/.3/.7, clientAuth, no OFB subject, not in the Directory", async () => {
    const cert = await leaf("e-cnpj");
    const entry = pki.clients["e-cnpj"]!;
    expect(cert.checkIssued(await ca("v5Ac"))).toBe(true);
    const rdns = subjectRdns(cert);
    expect(rdns.find((rdn) => rdn.oid === "2.5.4.3")?.value).toBe(`E CNPJ TESTE LTDA:${entry.cnpj}`);
    expect(rdns.filter((rdn) => rdn.oid === "2.5.4.11").map((rdn) => rdn.value)).toContain("RFB e-CNPJ A1");
    expect(rdns.map((rdn) => rdn.oid)).not.toContain("0.9.2342.19200300.100.1.1");
    expect(rdns.map((rdn) => rdn.oid)).not.toContain("2.5.4.97");
    expect(cert.keyUsage).toEqual([CLIENT_AUTH, "1.3.6.1.5.5.7.3.4"]);
    expect(keyUsageBits(cert)).toEqual([0, 1, 2]);
    // SubjectAltName: GeneralNames of otherName [0] { type-id, [0] EXPLICIT value }.
    const san = children(tlv(extension(cert, "2.5.29.17")!.value).content).map((name) => {
      const [typeId, value] = children(name.content);
      const inner = tlv(value!.content);
      return { oid: oid(typeId!.content), tag: inner.tag, text: inner.content.toString("latin1") };
    });
    expect(san.map((n) => n.oid)).toEqual(["2.16.76.1.3.4", "2.16.76.1.3.2", "2.16.76.1.3.3", "2.16.76.1.3.7"]);
    expect(san[0]).toMatchObject({ tag: 0x04 });
    expect(san[0]!.text).toHaveLength(50);
    expect(san[2]).toEqual({ oid: "2.16.76.1.3.3", tag: PRINTABLE, text: entry.cnpj });
    expect(san[3]).toEqual({ oid: "2.16.76.1.3.7", tag: 0x04, text: "000000000000" });
    expect(isValidCnpj(entry.cnpj!)).toBe(true);
    expect(entry).toMatchObject({ organisationId: null, softwareStatementId: null, keystore: "none" });
    const orgs = JSON.parse(await pem(pki.directory.participants)) as { RegistrationNumber: string }[];
    expect(orgs.some((o) => o.RegistrationNumber === entry.cnpj)).toBe(false);
  });

  it("validity defects: expired ended an hour ago, not-yet-valid starts tomorrow", async () => {
    expect(new Date((await leaf("expired")).validTo).getTime()).toBe(now.getTime() - 3_600_000);
    expect(new Date((await leaf("not-yet-valid")).validFrom).getTime()).toBe(now.getTime() + 86_400_000);
  });

  it("extension defects: serverAuth only, no EKU, keyEncipherment only, unknown critical extension", async () => {
    expect((await leaf("server-auth-only")).keyUsage).toEqual([SERVER_AUTH]);
    expect(extension(await leaf("no-eku"), "2.5.29.37")).toBeUndefined();
    expect(keyUsageBits(await leaf("no-digital-signature"))).toEqual([2]);
    expect(extension(await leaf("unknown-critical-extension"), "1.3.6.1.4.1.55555.1.1")?.critical).toBe(true);
  });

  it("algorithm defects: RSA 1024 key, SHA-1 signature by ssl-ac", async () => {
    expect((await leaf("rsa-1024")).publicKey.asymmetricKeyDetails?.modulusLength).toBe(1024);
    const sha1 = await leaf("sha1");
    expect(signatureOid(sha1)).toBe(SHA1_RSA);
    expect(sha1.verify((await ca("sslAc")).publicKey)).toBe(true);
  });

  it("issuer defects: self-signed, other CA, expired AC, CA:FALSE issuer, pathlen chain", async () => {
    const self = await leaf("self-signed");
    expect(self.issuer).toBe(self.subject);
    expect(self.verify(self.publicKey)).toBe(true);
    expect(extension(self, "2.5.29.35")).toBeUndefined();
    expect(await chain("self-signed")).toHaveLength(1);
    const [otherLeaf, otherAc] = await chain("other-ca");
    expect(otherAc!.fingerprint256).toBe((await ca("otherAc")).fingerprint256);
    expect(otherLeaf!.checkIssued(await ca("sslAc"))).toBe(false);
    const [, expiredAc] = await chain("expired-intermediate");
    expect(new Date(expiredAc!.validTo).getTime()).toBeLessThan(now.getTime());
    const [, nonCa] = await chain("non-ca-issuer");
    expect(nonCa!.ca).toBe(false);
    const pathChain = await chain("pathlen-exceeded");
    expect(pathChain.map((c) => c.fingerprint256)).toEqual([
      (await leaf("pathlen-exceeded")).fingerprint256,
      (await ca("subAc")).fingerprint256,
      (await ca("sslAc")).fingerprint256,
    ]);
  });

  it("identity defects: no UID, no organisation id, OPIBR-, wrong CNPJ check digit", async () => {
    const oids = async (name: string) => subjectRdns(await leaf(name)).map((rdn) => rdn.oid);
    expect(await oids("no-uid")).not.toContain("0.9.2342.19200300.100.1.1");
    expect(await oids("no-org-id")).not.toContain("2.5.4.97");
    expect(await oids("no-org-id")).not.toContain("2.5.4.11");
    const opi = subjectRdns(await leaf("open-insurance")).find((rdn) => rdn.oid === "2.5.4.97");
    expect(opi?.value).toBe(`OPIBR-${pki.clients["open-insurance"]!.organisationId}`);
    const cnpj = subjectRdns(await leaf("cnpj-invalid")).find((rdn) => rdn.oid === "2.5.4.5")?.value;
    expect(cnpj).toMatch(/^[0-9]{14}$/);
    expect(isValidCnpj(cnpj!)).toBe(false);
    expect(pki.clients["no-uid"]!.softwareStatementId).toBeNull();
    expect(pki.clients["no-org-id"]!.organisationId).toBeNull();
  });
});

describe("Directory fixture", () => {
  type RoleClaim = { Role: string; Status: string; AuthorisationDomain: string; Authorisations: { Status: string; MemberState: string }[] };
  type Org = {
    OrganisationId: string;
    Status: string;
    RegistrationNumber: string;
    OrgDomainRoleClaims: RoleClaim[];
    AuthorisationServers: { ApiResources: { ApiVersion: unknown }[] }[];
  } & Record<string, unknown>;
  const participants = async () => JSON.parse(await pem(pki.directory.participants)) as Org[];
  const org = (orgs: Org[], name: string) => orgs.find((o) => o.OrganisationId === pki.clients[name]!.organisationId);
  const roles = (o: Org | undefined) => Object.fromEntries((o?.OrgDomainRoleClaims ?? []).map((c) => [c.Role, c.Status]));

  it("holds the orgs, statuses and roles of the table, plus two orgs without certificates", async () => {
    const orgs = await participants();
    expect(roles(org(orgs, "participant-a"))).toEqual({ DADOS: "Active", PAGTO: "Active" });
    expect(roles(org(orgs, "participant-b"))).toEqual({ DADOS: "Active", PAGTO: "Inactive" });
    expect(roles(org(orgs, "participant-c"))).toEqual({ PAGTO: "Active" });
    expect(org(orgs, "participant-pending")?.Status).toBe("Pending");
    expect(org(orgs, "participant-withdrawn")?.Status).toBe("Withdrawn");
    expect(org(orgs, "participant-no-roles")?.OrgDomainRoleClaims).toEqual([]);
    expect(roles(org(orgs, "participant-inactive-key"))).toEqual({ DADOS: "Active" });
    expect(roles(org(orgs, "participant-unregistered-key"))).toEqual({ DADOS: "Active" });
    for (const name of ["participant-unknown-org", "open-insurance"]) expect(org(orgs, name)).toBeUndefined();
    const withCerts = new Set(Object.values(pki.clients).map((c) => c.organisationId));
    expect(orgs.filter((o) => !withCerts.has(o.OrganisationId))).toHaveLength(2);
    // One of them is the bank behind the edge, the account holder whose key signs responses.
    const bank = orgs.find((o) => o.OrganisationId === pki.bank.organisationId);
    expect(bank?.Status).toBe("Active");
    expect(roles(bank)).toEqual({ CONTA: "Active", DADOS: "Active" });
    for (const name of ["expired", "sha1", "revoked", "no-uid", "cnpj-invalid"]) {
      expect(org(orgs, name)?.Status).toBe("Active");
      expect(roles(org(orgs, name))).toEqual({ DADOS: "Active", PAGTO: "Active" });
    }
  });

  it("uses the exact field spelling of /participants and mirrors real data drift", async () => {
    const orgs = await participants();
    const a = org(orgs, "participant-a")!;
    for (const field of ["OrganisationId", "Status", "OrganisationName", "CreatedOn", "LegalEntityName", "CountryOfRegistration", "CompanyRegister", "RegistrationNumber", "RegisteredName", "AuthorisationServers", "OrgDomainClaims", "OrgDomainRoleClaims"]) {
      expect(a).toHaveProperty(field);
    }
    expect(a.AuthorisationServers).toHaveLength(1);
    expect(Object.keys(a.AuthorisationServers[0]!)).toEqual(expect.arrayContaining(["AuthorisationServerId", "OrganisationId", "CustomerFriendlyName", "OpenIDDiscoveryDocument", "Issuer", "ApiResources"]));
    expect(Object.keys(a.OrgDomainRoleClaims[0]!)).toEqual(expect.arrayContaining(["Role", "Status", "AuthorisationDomain", "RegistrationId", "Authorisations", "OrganisationId"]));
    expect(a.RegistrationNumber).toBe(pki.clients["participant-a"]!.cnpj);
    expect(a.AuthorisationServers[0]!.ApiResources[0]!.ApiVersion).toBe("2.0.1");
    const b = org(orgs, "participant-b")!;
    expect(b.RegistrationNumber).toBe(pki.clients["participant-b"]!.cnpj!.slice(0, 8));
    expect(b.AuthorisationServers[0]!.ApiResources[0]!.ApiVersion).toBe(1);
    const c = org(orgs, "participant-c")!;
    expect(c.RegistrationNumber).toBe("12.ABC.345/01DE-35");
    expect(c.OrgDomainRoleClaims[0]!.AuthorisationDomain).toBe("Open Banking Brasil ");
    expect(a.OrgDomainRoleClaims[0]!.AuthorisationDomain).toBe("Open Banking");
    expect(org(orgs, "participant-pending")!.OrgDomainRoleClaims[0]!.Authorisations).toEqual([{ Status: "Active", MemberState: "BR" }]);
  });

  it("roles.json has the /roles shape derived from the same data", async () => {
    const orgs = await participants();
    const list = JSON.parse(await pem(pki.directory.roles)) as { OrganisationId: string; Status: string; RegistrationNumber: string; OrgDomainRoleClaims: { AuthorisationDomainName: string; AuthorisationDomainRoleName: string; Status: string }[] }[];
    expect(list.map((o) => o.OrganisationId)).toEqual(orgs.map((o) => o.OrganisationId));
    const b = list.find((o) => o.OrganisationId === pki.clients["participant-b"]!.organisationId)!;
    expect(b.OrgDomainRoleClaims).toEqual([
      { AuthorisationDomainName: "Open Banking", AuthorisationDomainRoleName: "DADOS", Status: "Active" },
      { AuthorisationDomainName: "Open Banking", AuthorisationDomainRoleName: "PAGTO", Status: "Inactive" },
    ]);
    expect(list.find((o) => o.OrganisationId === pki.clients["participant-pending"]!.organisationId)?.Status).toBe("Pending");
  });

  it.each(NAMES)("%s: keystore JWKS place the key as the manifest says, kid = x5t#S256 of the certificate", async (name) => {
    const entry = pki.clients[name]!;
    const folder = join(pki.directory.keystore, `${entry.organisationId}/${entry.softwareStatementId}`);
    if (entry.keystore === "none") {
      expect(existsSync(folder)).toBe(false);
      return;
    }
    type Jwk = { kty: string; use: string; kid: string; n: string; e: string; x5c: string[]; "x5t#S256": string; x5u: string };
    const jwks = async (path: string) => (JSON.parse(await pem(join(folder, path))) as { keys: Jwk[] }).keys;
    const [active, inactive] = [await jwks("transport.jwks"), await jwks("inactive/transport.jwks")];
    const published = [...active, ...inactive];
    for (const jwk of published) {
      const der = Buffer.from(jwk.x5c[0]!, "base64");
      expect(jwk.kid).toBe(createHash("sha256").update(der).digest("base64url"));
      expect(jwk["x5t#S256"]).toBe(jwk.kid);
      expect(jwk.use).toBe("sig");
      expect(jwk.x5u).toBe(`${pki.directory.keystoreBaseUrl}${entry.organisationId}/${entry.softwareStatementId}/${jwk.kid}.pem`);
      expect(new X509Certificate(await pem(join(folder, `${jwk.kid}.pem`))).raw.equals(der)).toBe(true);
      const key = createPublicKey({ key: { kty: jwk.kty, n: jwk.n, e: jwk.e }, format: "jwk" });
      expect(key.equals(new X509Certificate(der).publicKey)).toBe(true);
    }
    const kids = (keys: Jwk[]) => keys.map((k) => k.kid);
    switch (entry.keystore) {
      case "active":
        expect(kids(active)).toEqual([entry.thumbprint]);
        expect(inactive).toEqual([]);
        break;
      case "inactive":
        expect(active).toEqual([]);
        expect(kids(inactive)).toEqual([entry.thumbprint]);
        break;
      case "unregistered":
        expect(active).toHaveLength(1);
        expect(kids(published)).not.toContain(entry.thumbprint);
        expect(inactive).toEqual([]);
        break;
    }
  });

  it("places keys per the table", () => {
    const placement = Object.fromEntries(Object.entries(pki.clients).map(([name, c]) => [name, c.keystore]));
    expect(placement).toMatchObject({
      "participant-a": "active",
      "participant-inactive-key": "inactive",
      "participant-unregistered-key": "unregistered",
      "participant-unknown-org": "none",
      "no-uid": "none",
      "no-org-id": "none",
      expired: "active",
      revoked: "active",
    });
  });
});

describe("signing keys (BRSEAL-like) and the organisations' application keystore", () => {
  const signingCert = async (name: string) => new X509Certificate(await readFile(pki.signingKeys[name]!.cert));
  type Jwk = { kty: string; use: string; kid: string; n: string; e: string; x5c: string[]; x5u: string };
  const jwks = async (org: string, path: string) => (JSON.parse(await pem(join(pki.directory.keystore, org, path))) as { keys: Jwk[] }).keys;

  it("lists participant-a's active and inactive keys, participant-b's and the bank's, each with its organisation", () => {
    const a = pki.clients["participant-a"]!.organisationId;
    expect(Object.fromEntries(Object.entries(pki.signingKeys).map(([name, k]) => [name, [k.organisationId, k.status]]))).toEqual({
      "participant-a": [a, "active"],
      "participant-a-inactive": [a, "inactive"],
      "participant-b": [pki.clients["participant-b"]!.organisationId, "active"],
      bank: [pki.bank.organisationId, "active"],
    });
  });

  it.each(["participant-a", "participant-a-inactive", "participant-b", "bank"])("%s: issued by the v5-like AC, keyUsage critical digitalSignature+nonRepudiation, no EKU, UID = organisation id, its key", async (name) => {
    const cert = await signingCert(name);
    const entry = pki.signingKeys[name]!;
    expect(cert.verify((await ca("v5Ac")).publicKey)).toBe(true);
    expect(extension(cert, "2.5.29.15")?.critical).toBe(true);
    expect(keyUsageBits(cert)).toEqual([0, 1]);
    expect(extension(cert, "2.5.29.37")).toBeUndefined();
    expect(subjectRdns(cert).find((r) => r.oid === "0.9.2342.19200300.100.1.1")?.value).toBe(entry.organisationId);
    expect(cert.checkPrivateKey(createPrivateKey(await pem(entry.key)))).toBe(true);
    expect(entry.kid).toBe(createHash("sha256").update(cert.raw).digest("base64url"));
    expect((await stat(entry.key)).mode & 0o777).toBe(0o600);
  });

  it("publishes active keys in <org>/application.jwks and the inactive one only in <org>/inactive/application.jwks, kid = x5t#S256", async () => {
    const a = pki.clients["participant-a"]!.organisationId!;
    expect((await jwks(a, "application.jwks")).map((k) => k.kid)).toEqual([pki.signingKeys["participant-a"]!.kid]);
    expect((await jwks(a, "inactive/application.jwks")).map((k) => k.kid)).toEqual([pki.signingKeys["participant-a-inactive"]!.kid]);
    expect((await jwks(pki.bank.organisationId, "application.jwks")).map((k) => k.kid)).toEqual([pki.signingKeys.bank!.kid]);
    expect(await jwks(pki.bank.organisationId, "inactive/application.jwks")).toEqual([]);
    for (const [name, entry] of Object.entries(pki.signingKeys)) {
      const [jwk] = (await jwks(entry.organisationId, entry.status === "active" ? "application.jwks" : "inactive/application.jwks")).filter((k) => k.kid === entry.kid);
      expect(Buffer.from(jwk!.x5c[0]!, "base64").equals((await signingCert(name)).raw)).toBe(true);
      expect(jwk!.x5u).toBe(`${pki.directory.keystoreBaseUrl}${entry.organisationId}/${entry.kid}.pem`);
      expect(existsSync(join(pki.directory.keystore, entry.organisationId, `${entry.kid}.pem`))).toBe(true);
    }
  });

  it("the TPP signer signs a PS256 JWS (typ JWT, the published kid) that verifies with the published key, claims iss, aud, iat and a UUID v4 jti", async () => {
    const signer = await testMessageSigner(pki, "participant-a");
    const jws = await signer.sign({ aud: "https://api.bank.test/open-banking/payments/v4/consents", payload: { data: { x: 1 } } });
    const [jwk] = await jwks(signer.organisationId, "application.jwks");
    const { payload, protectedHeader } = await compactVerify(jws, await importJWK(jwk!, "PS256"));
    expect(protectedHeader).toEqual({ alg: "PS256", kid: pki.signingKeys["participant-a"]!.kid, typ: "JWT" });
    const claims = JSON.parse(Buffer.from(payload).toString("utf8")) as Record<string, unknown>;
    expect(claims).toMatchObject({ data: { x: 1 }, iss: pki.clients["participant-a"]!.organisationId, aud: "https://api.bank.test/open-banking/payments/v4/consents" });
    expect(Math.abs((claims.iat as number) - Date.now() / 1000)).toBeLessThan(5);
    expect(claims.jti).toMatch(UUID_V4);
  });
});

describe("manifest", () => {
  it("loadTestPki returns the generated manifest with absolute paths that exist", async () => {
    const loaded = await loadTestPki(out);
    expect(loaded).toEqual(pki);
    const paths = [
      loaded.trustAnchors,
      ...Object.values(loaded.anchorFiles),
      loaded.server.cert,
      ...Object.values(loaded.ca).flatMap((p) => [p.cert, p.key]),
      ...Object.values(loaded.clients).flatMap((c) => [c.cert, c.chain, c.key]),
      ...Object.values(loaded.signingKeys).flatMap((k) => [k.cert, k.key]),
    ];
    for (const path of paths) {
      expect(isAbsolute(path)).toBe(true);
      expect(existsSync(path)).toBe(true);
    }
    const onDisk = JSON.parse(await pem(join(out, "manifest.json"))) as { trustAnchors: string; version: number };
    expect(onDisk).toMatchObject({
      version: TEST_PKI_VERSION,
      trustAnchors: "ca/trust-anchors.pem",
      anchorFiles: { root: "ca/trust-anchors.pem", bundle: "ca/transport-bundle.pem", allRoots: "ca/all-roots.pem" },
    });
  });

  it("loadTestPki rejects a manifest with a missing field, naming the JSON path", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ofb-test-pki-bad-"));
    const manifest = JSON.parse(await pem(join(out, "manifest.json"))) as { clients: Record<string, Record<string, unknown>> };
    delete manifest.clients["participant-a"]!["thumbprint"];
    await writeFile(join(dir, "manifest.json"), JSON.stringify(manifest));
    const error = await loadTestPki(dir).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((i) => i.path)).toEqual(["clients.participant-a.thumbprint"]);
    expect((error as ConfigError).message).toContain("manifest.json: clients.participant-a.thumbprint:");
  });

  it("generateTestPki refuses to overwrite an existing manifest without force", async () => {
    await expect(generateTestPki({ out })).rejects.toThrow(/manifest\.json already exists; set force to overwrite/);
  });

  it("helpers: a client cert for org X that expires at exactly T, under the generated ssl-ac", async () => {
    const sslAc = await loadTestCa(pki.ca.sslAc, `${pki.crlBaseUrl}ssl-ac.crl`);
    const expiry = addHours(now, 2);
    const fields = { commonName: "x.test", softwareStatementId: "8e0d3b4a-2f6c-4d1e-9a7b-3c5d6e7f8a9b", organisationId: "a1b2c3d4-e5f6-5a7b-8c9d-0e1f2a3b4c5d", cnpj: "11222333000181", organizationName: "X", locality: "Sao Paulo", state: "SP" };
    const issued = await issueClientCertificate(sslAc, { subject: ofbSubject(fields), notAfter: expiry });
    const cert = new X509Certificate(issued.pem);
    expect(new Date(cert.validTo).getTime()).toBe(expiry.getTime());
    expect(cert.verify((await ca("sslAc")).publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(issued.keyPem))).toBe(true);
  });
});

describe("real TLS handshake against the generated server certificate (Node + OpenSSL)", () => {
  type Outcome = { authorized: boolean; error: string | null };

  async function handshake(port: number, anchors: string, certFile: string, keyFile: string): Promise<Outcome> {
    const [cert, key] = await Promise.all([readFile(certFile), readFile(keyFile)]);
    return new Promise((resolve, reject) => {
      // SECLEVEL=0 on the client only, so it agrees to send the SHA-1 leaf; the server keeps Node's defaults.
      const socket = tls.connect({ port, host: "127.0.0.1", servername: "localhost", ca: anchors, cert, key, ciphers: "DEFAULT@SECLEVEL=0" });
      let data = "";
      socket.on("data", (chunk: Buffer) => (data += chunk.toString("utf8")));
      socket.on("end", () => resolve(JSON.parse(data) as Outcome));
      socket.on("error", reject);
    });
  }

  /** A TLS server whose store (`ca`) is `store`, answering each client with OpenSSL's verdict. */
  async function verdictServer(store: string | string[]) {
    const server = tls.createServer(
      { cert: await readFile(pki.server.cert), key: await readFile(pki.server.key), ca: store, requestCert: true, rejectUnauthorized: false },
      (socket) => {
        const error = socket.authorizationError === undefined || socket.authorizationError === null ? null : String(socket.authorizationError);
        socket.end(JSON.stringify({ authorized: socket.authorized, error }));
      },
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return { port: (server.address() as { port: number }).port, close: () => new Promise((resolve) => server.close(resolve)) };
  }

  it("accepts participant-a's chain and reports OpenSSL's verdict for each bad case", async () => {
    const anchors = await pem(pki.trustAnchors);
    const server = await verdictServer(anchors);
    const { port } = server;
    try {
      const viaChain = (name: string) => handshake(port, anchors, pki.clients[name]!.chain, pki.clients[name]!.key);
      expect(await viaChain("participant-a")).toEqual({ authorized: true, error: null });
      // A lone leaf whose issuer is not an anchor: OpenSSL says UNABLE_TO_VERIFY_LEAF_SIGNATURE, not …_LOCALLY.
      const a = pki.clients["participant-a"]!;
      expect(await handshake(port, anchors, a.cert, a.key)).toEqual({ authorized: false, error: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" });
      const observed: Record<string, string | null> = {};
      for (const name of ["other-ca", "expired", "not-yet-valid", "server-auth-only", "no-digital-signature", "sha1", "self-signed", "expired-intermediate", "non-ca-issuer", "pathlen-exceeded", "unknown-critical-extension", "no-eku", "rsa-1024"]) {
        observed[name] = (await viaChain(name)).error;
      }
      expect(observed).toEqual({
        "other-ca": "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
        expired: "CERT_HAS_EXPIRED",
        "not-yet-valid": "CERT_NOT_YET_VALID",
        "server-auth-only": "INVALID_PURPOSE",
        "no-digital-signature": "INVALID_PURPOSE",
        // OpenSSL's CA_MD_TOO_WEAK and UNHANDLED_CRITICAL_EXTENSION have no name in Node's table.
        sha1: "UNSPECIFIED",
        "self-signed": "DEPTH_ZERO_SELF_SIGNED_CERT",
        "expired-intermediate": "CERT_HAS_EXPIRED",
        "non-ca-issuer": "INVALID_PURPOSE",
        "pathlen-exceeded": "PATH_LENGTH_EXCEEDED",
        "unknown-critical-extension": "UNSPECIFIED",
        // OpenSSL accepts these two: the edge's own policy must reject them.
        "no-eku": null,
        "rsa-1024": null,
      });
    } finally {
      await server.close();
    }
  });

  it("with the ACs in the store OpenSSL completes a lone leaf (so chain policy must judge what was sent), and never accepts a chain that stops at an AC", async () => {
    const serverCa = await pem(pki.trustAnchors);
    const a = pki.clients["participant-a"]!;
    const bundle = await verdictServer(await pem(pki.anchorFiles.bundle));
    const acOnly = await verdictServer(await pem(pki.ca.sslAc.cert));
    const allRoots = await verdictServer(await pem(pki.anchorFiles.allRoots));
    try {
      expect(await handshake(bundle.port, serverCa, a.chain, a.key)).toEqual({ authorized: true, error: null });
      expect(await handshake(bundle.port, serverCa, a.cert, a.key)).toEqual({ authorized: true, error: null });
      const printable = pki.clients["participant-printable-issuer"]!;
      expect(await handshake(bundle.port, serverCa, printable.chain, printable.key)).toEqual({ authorized: true, error: null });
      // Node 20 does not set X509_V_FLAG_PARTIAL_CHAIN: an AC alone in the store anchors nothing.
      expect(await handshake(acOnly.port, serverCa, a.chain, a.key)).toEqual({ authorized: false, error: "UNABLE_TO_GET_ISSUER_CERT" });
      expect(await handshake(acOnly.port, serverCa, a.cert, a.key)).toEqual({ authorized: false, error: "UNABLE_TO_GET_ISSUER_CERT" });
      // Every root in the store: OpenSSL's SSL-client purpose accepts the v5 e-CNPJ (clientAuth), so the transport hierarchy is policy.
      const eCnpj = pki.clients["e-cnpj"]!;
      expect(await handshake(allRoots.port, serverCa, eCnpj.chain, eCnpj.key)).toEqual({ authorized: true, error: null });
      expect(await handshake(bundle.port, serverCa, eCnpj.chain, eCnpj.key)).toEqual({ authorized: false, error: "UNABLE_TO_GET_ISSUER_CERT_LOCALLY" });
    } finally {
      await Promise.all([bundle.close(), acOnly.close(), allRoots.close()]);
    }
  });
});
