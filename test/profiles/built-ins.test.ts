import { createHash, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest } from "../helpers/client.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";

/**
 * Every built-in profile (docs/architecture.md §Header profiles; each vendor's documentation) through a real edge: participant-a's certificate
 * over real TLS, one route per profile, and the exact fields the backend received. Expected values are derived
 * here from the DER and PEM that Node reads from the certificate files, and the DN strings are OpenSSL's own
 * output for this subject (`openssl x509 -nameopt RFC2253` / `-nameopt compat`), not from the encoders.
 */

const BUILT_INS = [
  "rfc9440",
  "ofb-identity",
  "envoy-xfcc",
  "nginx",
  "nginx-ingress",
  "haproxy",
  "aws-alb-verify",
  "aws-alb-passthrough",
  "cloudflare",
  "gcp-lb",
  "traefik",
  "apache-modssl",
  "azure-arr",
  "azion",
] as const;

let pki: TestPkiManifest;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
let edge: Awaited<ReturnType<typeof startTestEdge>>;
const received = new Map<string, Map<string, string[]>>();

let leaf: X509Certificate;
let intermediate: X509Certificate;
let subject2253: string;
let subjectOneline: string;
const issuer2253 = "CN=AC TESTE SSL EV G4,OU=Autoridade Certificadora Raiz Brasileira v10 TESTE,O=ICP-Brasil TESTE,C=BR";
const issuerOneline = "/C=BR/O=ICP-Brasil TESTE/OU=Autoridade Certificadora Raiz Brasileira v10 TESTE/CN=AC TESTE SSL EV G4";

const b64 = (c: X509Certificate) => c.raw.toString("base64");
/** Percent-encoding of every byte outside `keep` (uppercase hex), computed by pattern rather than by the encoder. */
const percent = (text: string, keep: RegExp) => [...text].map((ch) => (keep.test(ch) ? ch : `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`)).join("");
const opensslTime = (d: Date) => {
  const month = d.toLocaleString("en-US", { month: "short", timeZone: "UTC" });
  const day = String(d.getUTCDate()).padStart(2, " ");
  const hms = d.toISOString().slice(11, 19);
  return `${month} ${day} ${hms} ${d.getUTCFullYear()} GMT`;
};

beforeAll(async () => {
  pki = await testPki();
  const a = pki.clients["participant-a"]!;
  leaf = new X509Certificate(readFileSync(a.cert));
  intermediate = new X509Certificate(readFileSync(a.chain, "utf8").match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)![1]!);
  // OpenSSL 3.0 `x509 -nameopt RFC2253` / `-nameopt compat` for the generated participant-a subject (fixed names, random ids).
  subject2253 =
    `CN=participant-a.tpp.ofb-edge.test,UID=${a.softwareStatementId},organizationIdentifier=OFBBR-${a.organisationId},L=S\\C3\\A3o Paulo,ST=SP,` +
    `O=PARTICIPANT A TESTE S/A,C=BR,serialNumber=${a.cnpj},jurisdictionC=BR,businessCategory=Private Organization`;
  subjectOneline =
    `/businessCategory=Private Organization/jurisdictionC=BR/serialNumber=${a.cnpj}/C=BR/O=PARTICIPANT A TESTE S\\/A/ST=SP/L=S\\xC3\\xA3o Paulo` +
    `/organizationIdentifier=OFBBR-${a.organisationId}/UID=${a.softwareStatementId}/CN=participant-a.tpp.ofb-edge.test`;
  backend = await startRecordingBackend();
  edge = await startTestEdge({
    pki,
    upstream: backend.url,
    routes: BUILT_INS.map((name) => ({ name: `p-${name}`, pathPrefix: `/p/${name}/`, upstream: backend.url, profiles: [name] })),
  });
  for (const name of BUILT_INS) {
    const res = await httpsRequest({ pki, port: edge.port, credentials: clientCredentials(pki, "participant-a"), path: `/p/${name}/x` });
    expect(res.status).toBe(200);
    const raw = backend.received.at(-1)!.rawHeaders;
    const fields = new Map<string, string[]>();
    for (let i = 0; i < raw.length; i += 2) fields.set(raw[i]!.toLowerCase(), [...(fields.get(raw[i]!.toLowerCase()) ?? []), raw[i + 1]!]);
    received.set(name, fields);
  }
});

afterAll(async () => {
  await edge?.close();
  await backend?.close();
});

/** The fields a profile added: everything the backend got minus what every request carries. */
function profileFields(name: string): Record<string, string> {
  const common = new Set(["host", "connection", "x-fapi-interaction-id", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"]);
  const out: Record<string, string> = {};
  for (const [k, v] of received.get(name)!) {
    if (common.has(k)) continue;
    expect(v, `${name}: ${k} sent once`).toHaveLength(1);
    out[k] = v[0]!;
  }
  return out;
}

describe("built-in profiles reproduce their origin byte for byte", () => {
  it("rfc9440: Client-Cert and Client-Cert-Chain as RFC 8941 Byte Sequences (RFC 9440 §2)", () => {
    expect(profileFields("rfc9440")).toEqual({ "client-cert": `:${b64(leaf)}:`, "client-cert-chain": `:${b64(intermediate)}:` });
  });

  it("ofb-identity: the participant from the certificate and its thumbprint", () => {
    const a = pki.clients["participant-a"]!;
    expect(profileFields("ofb-identity")).toEqual({
      "x-ofb-organisation-id": a.organisationId,
      "x-ofb-software-statement-id": a.softwareStatementId,
      "x-ofb-cnpj": a.cnpj,
      "x-ofb-cnpj-verified": "true",
      "x-ofb-x5t-s256": createHash("sha256").update(leaf.raw).digest("base64url"),
    });
  });

  it("envoy-xfcc: Hash (lowercase hex SHA-256), Cert and Chain (URL-encoded PEM, quoted), Subject (RFC 2253, quoted), DNS", () => {
    const pemUrl = (pem: string) => percent(pem, /[A-Za-z0-9\-._~]/);
    const dns = leaf.subjectAltName!.split(", ").map((s) => s.replace(/^DNS:/, ""));
    expect(profileFields("envoy-xfcc")).toEqual({
      "x-forwarded-client-cert":
        `Hash=${createHash("sha256").update(leaf.raw).digest("hex")};Cert="${pemUrl(leaf.toString())}";Chain="${pemUrl(leaf.toString() + intermediate.toString())}";` +
        `Subject="${subject2253}"${dns.map((d) => `;DNS=${d}`).join("")}`,
    });
  });

  it("nginx: $ssl_client_escaped_cert, verify, DNs, serial, SHA-1 fingerprint, validity", () => {
    expect(profileFields("nginx")).toEqual({
      "x-ssl-client-cert": percent(leaf.toString(), /[A-Za-z0-9\-._~]/),
      "x-ssl-client-verify": "SUCCESS",
      "x-ssl-client-s-dn": subject2253,
      "x-ssl-client-i-dn": issuer2253,
      "x-ssl-client-serial": leaf.serialNumber,
      "x-ssl-client-fingerprint": createHash("sha1").update(leaf.raw).digest("hex"),
      "x-ssl-client-v-start": opensslTime(new Date(leaf.validFrom)),
      "x-ssl-client-v-end": opensslTime(new Date(leaf.validTo)),
    });
  });

  it("nginx-ingress: ssl-client-cert, ssl-client-verify, ssl-client-subject-dn, ssl-client-issuer-dn", () => {
    expect(profileFields("nginx-ingress")).toEqual({
      "ssl-client-cert": percent(leaf.toString(), /[A-Za-z0-9\-._~]/),
      "ssl-client-verify": "SUCCESS",
      "ssl-client-subject-dn": subject2253,
      "ssl-client-issuer-dn": issuer2253,
    });
  });

  it("haproxy: base64 DER, quoted one-line DN with raw UTF-8, verify 0, uppercase hex SHA-1 and serial, YYMMDDhhmmssZ dates", () => {
    const yymmdd = (d: Date) => `${d.toISOString().slice(2, 19).replace(/[-T:]/g, "")}Z`;
    const a = pki.clients["participant-a"]!;
    // ssl_sock_get_dn_oneline: every entry in DER order as /sn=value, the value's UTF-8 octets unescaped; the
    // backend reads each octet as one Latin-1 character.
    const subjectHaproxy = Buffer.from(
      `/businessCategory=Private Organization/jurisdictionC=BR/serialNumber=${a.cnpj}/C=BR/O=PARTICIPANT A TESTE S/A/ST=SP/L=São Paulo` +
        `/organizationIdentifier=OFBBR-${a.organisationId}/UID=${a.softwareStatementId}/CN=participant-a.tpp.ofb-edge.test`,
      "utf8",
    ).toString("latin1");
    expect(subjectHaproxy).toContain("/L=S\u00c3\u00a3o Paulo/");
    expect(profileFields("haproxy")).toEqual({
      "x-ssl-client-cert": b64(leaf),
      "x-ssl-client-dn": `"${subjectHaproxy}"`,
      "x-ssl-client-verify": "0",
      "x-ssl-client-sha1": createHash("sha1").update(leaf.raw).digest("hex").toUpperCase(),
      "x-ssl-client-serial": leaf.serialNumber,
      "x-ssl-client-notbefore": yymmdd(new Date(leaf.validFrom)),
      "x-ssl-client-notafter": yymmdd(new Date(leaf.validTo)),
    });
  });

  it("aws-alb-verify: serial, RFC 2253 DNs, validity, leaf PEM with + = / unescaped", () => {
    const iso = (s: string) => `${new Date(s).toISOString().slice(0, 19)}Z`;
    expect(profileFields("aws-alb-verify")).toEqual({
      "x-amzn-mtls-clientcert-serial-number": leaf.serialNumber,
      "x-amzn-mtls-clientcert-issuer": issuer2253,
      "x-amzn-mtls-clientcert-subject": subject2253,
      "x-amzn-mtls-clientcert-validity": `NotBefore=${iso(leaf.validFrom)};NotAfter=${iso(leaf.validTo)}`,
      "x-amzn-mtls-clientcert-leaf": percent(leaf.toString(), /[A-Za-z0-9\-._~+=/]/),
    });
  });

  it("aws-alb-passthrough: the whole presented chain, leaf first, one PEM with + = / unescaped", () => {
    expect(profileFields("aws-alb-passthrough")).toEqual({ "x-amzn-mtls-clientcert": percent(leaf.toString() + intermediate.toString(), /[A-Za-z0-9\-._~+=/]/) });
  });

  it("cloudflare: cf-cert-* as the Managed Transform sends them", () => {
    expect(profileFields("cloudflare")).toEqual({
      "cf-cert-presented": "true",
      "cf-cert-verified": "true",
      "cf-cert-revoked": "false",
      "cf-cert-issuer-dn": issuer2253,
      "cf-cert-issuer-dn-rfc2253": issuer2253,
      "cf-cert-issuer-dn-legacy": issuerOneline,
      "cf-cert-subject-dn": subject2253,
      "cf-cert-subject-dn-rfc2253": subject2253,
      "cf-cert-subject-dn-legacy": subjectOneline,
      "cf-cert-serial": leaf.serialNumber,
      "cf-cert-fingerprint-sha256": createHash("sha256").update(leaf.raw).digest("hex"),
      "cf-cert-fingerprint-sha1": createHash("sha1").update(leaf.raw).digest("hex"),
      "cf-cert-not-before": opensslTime(new Date(leaf.validFrom)),
      "cf-cert-not-after": opensslTime(new Date(leaf.validTo)),
    });
  });

  it("gcp-lb: flags, base64 SHA-256, serial, RFC 3339 validity, base64 DER Names, RFC 9440 leaf and chain", () => {
    const iso = (s: string) => `${new Date(s).toISOString().slice(0, 19)}Z`;
    const fields = profileFields("gcp-lb");
    expect(fields).toMatchObject({
      "x-client-cert-present": "true",
      "x-client-cert-chain-verified": "true",
      "x-client-cert-hash": createHash("sha256").update(leaf.raw).digest("base64"),
      "x-client-cert-serial-number": leaf.serialNumber,
      "x-client-cert-valid-not-before": iso(leaf.validFrom),
      "x-client-cert-valid-not-after": iso(leaf.validTo),
      "x-client-cert-leaf": `:${b64(leaf)}:`,
      "x-client-cert-chain": `:${b64(intermediate)}:`,
    });
    // The Names are the DER inside the certificate: the subject DER is the issuer DER of nothing here, so check by content.
    expect(leaf.raw.includes(Buffer.from(fields["x-client-cert-subject-dn"]!, "base64"))).toBe(true);
    expect(intermediate.raw.includes(Buffer.from(fields["x-client-cert-issuer-dn"]!, "base64"))).toBe(true);
    expect(Object.keys(fields)).toHaveLength(10);
  });

  it("traefik: every presented certificate, leaf first, base64 DER joined with ','; the Info header with every field, query-escaped", () => {
    // Traefik's DN: the attributes Node prints for the Name (one per line, DER order), regrouped in Traefik's
    // fixed order, the serialNumber attribute as SN and only the last SN and CN (Go pkix.Name keeps one).
    const traefikDn = (nodeName: string, keys: readonly string[]) => {
      const lines = nodeName.split("\n").map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)] as const);
      const of = (key: string) => lines.filter(([k]) => k === key).map(([, v]) => v);
      return keys.flatMap((k) => (k === "SN" ? of("serialNumber").slice(-1) : k === "CN" ? of("CN").slice(-1) : of(k)).map((v) => `${k}=${v}`)).join(",");
    };
    const unix = (s: string) => String(Date.parse(s) / 1000);
    const sans = (c: X509Certificate) =>
      (c.subjectAltName ?? "")
        .split(", ")
        .filter((entry) => /^(DNS|email|IP Address|URI):/.test(entry))
        .map((entry) => entry.slice(entry.indexOf(":") + 1));
    const info = (c: X509Certificate) =>
      [
        `Subject="${traefikDn(c.subject, ["DC", "C", "ST", "L", "O", "OU", "SN", "CN"])}"`,
        `Issuer="${traefikDn(c.issuer, ["DC", "C", "ST", "L", "O", "SN", "CN"])}"`,
        `SerialNumber="${BigInt(`0x${c.serialNumber}`).toString(10)}"`,
        `NB="${unix(c.validFrom)}"`,
        `NA="${unix(c.validTo)}"`,
        ...(sans(c).length > 0 ? [`SAN="${sans(c).join(",")}"`] : []),
      ].join(";");
    // Go url.QueryEscape: the form-urlencoded serializer, except that Go escapes '*' and keeps '~'.
    const queryEscape = (text: string) => new URLSearchParams([["", text]]).toString().slice(1).replaceAll("*", "%2A").replaceAll("%7E", "~");
    const a = pki.clients["participant-a"]!;
    const leafInfo = info(leaf);
    // The subject as Traefik groups it, spelled out once by hand for this certificate.
    expect(leafInfo).toContain(`Subject="C=BR,ST=SP,L=São Paulo,O=PARTICIPANT A TESTE S/A,SN=${a.cnpj},CN=participant-a.tpp.ofb-edge.test"`);
    expect(leafInfo).toContain('Issuer="C=BR,O=ICP-Brasil TESTE,CN=AC TESTE SSL EV G4"');
    expect(profileFields("traefik")).toEqual({
      "x-forwarded-tls-client-cert": `${b64(leaf)},${b64(intermediate)}`,
      "x-forwarded-tls-client-cert-info": queryEscape(`${leafInfo},${info(intermediate)}`),
    });
  });

  it("apache-modssl: PEM with line breaks as spaces, RFC 2253 DNs with raw UTF-8, serial, SUCCESS, dates", () => {
    // mod_ssl ≥ 2.3.11: XN_FLAG_RFC2253 without ESC_MSB, so the OpenSSL form with `S\C3\A3o` written as the
    // octets themselves, each read by the backend as one Latin-1 character.
    const subjectApache = subject2253.replace("L=S\\C3\\A3o Paulo,", `L=${Buffer.from("São Paulo", "utf8").toString("latin1")},`);
    expect(subjectApache).toContain(",L=S\u00c3\u00a3o Paulo,");
    expect(profileFields("apache-modssl")).toEqual({
      "x-ssl-client-cert": leaf.toString().replace(/\n/g, " ").trimEnd(),
      "x-ssl-client-s-dn": subjectApache,
      "x-ssl-client-i-dn": issuer2253,
      "x-ssl-client-m-serial": leaf.serialNumber,
      "x-ssl-client-verify": "SUCCESS",
      "x-ssl-client-v-start": opensslTime(new Date(leaf.validFrom)),
      "x-ssl-client-v-end": opensslTime(new Date(leaf.validTo)),
    });
  });

  it("azure-arr: X-ARR-ClientCert as base64 DER", () => {
    expect(profileFields("azure-arr")).toEqual({ "x-arr-clientcert": b64(leaf) });
  });

  it("azion: X-Forward-Client-Cert as nginx's escaped PEM", () => {
    expect(profileFields("azion")).toEqual({ "x-forward-client-cert": percent(leaf.toString(), /[A-Za-z0-9\-._~]/) });
  });
});
