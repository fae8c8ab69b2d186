import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { webcrypto } from "node:crypto";
import { it } from "vitest";
import { certificateParts } from "../../src/identity/parse.js";
import { subjectAltNames } from "../../src/profiles/formats.js";
import { AsnConvert } from "@peculiar/asn1-schema";
import { GeneralName, SubjectAlternativeName } from "@peculiar/asn1-x509";

function len(n: number): number[] { if (n < 128) return [n]; const b: number[] = []; while (n > 0) { b.unshift(n & 0xff); n >>= 8; } return [0x80 | b.length, ...b]; }
function tlv(tag: number, content: Uint8Array): Uint8Array { return Uint8Array.from([tag, ...len(content.length), ...content]); }
function cat(...p: Uint8Array[]) { return Uint8Array.from(p.flatMap((x) => [...x])); }
function oid(o: string) { const [a = 0, b = 0, ...r] = o.split(".").map(Number); const out = [40 * a + b, ...r].flatMap((arc) => { const g = [arc & 0x7f]; for (let v = arc >>> 7; v > 0; v >>>= 7) g.unshift((v & 0x7f) | 0x80); return g; }); return tlv(6, Uint8Array.from(out)); }
function bmp(s: string) { const b = Buffer.alloc(s.length * 2); for (let i = 0; i < s.length; i++) b.writeUInt16BE(s.charCodeAt(i), i * 2); return new Uint8Array(b); }
function ucs4(s: string) { const cps = [...s].map((c) => c.codePointAt(0)!); const b = Buffer.alloc(cps.length * 4); cps.forEach((c, i) => b.writeUInt32BE(c, i * 4)); return new Uint8Array(b); }

it("scratch", async () => {
  const keys = await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
  const vals = [
    tlv(0x0c, new TextEncoder().encode("a\u0000\r\n\"😀 x")),
    tlv(0x13, new TextEncoder().encode("ab c")),
    tlv(0x14, Uint8Array.from([0x41, 0xe3, 0x85, 0x0a, 0x00])),
    tlv(0x1e, bmp("Ωé\u0000\ud83d\ude00")),
    tlv(0x1c, ucs4("😀x\u0000")),
    tlv(0x16, Uint8Array.from([0x41, 0x00, 0x7f, 0x0d])),
    tlv(0x0c, new TextEncoder().encode("x".repeat(300))),
  ];
  const name = tlv(0x30, cat(...vals.map((v) => tlv(0x31, tlv(0x30, cat(oid("2.5.4.3"), v))))));
  const san = new SubjectAlternativeName([new GeneralName({ dNSName: "a\u00e9\u0100\r\n😀" }), new GeneralName({ uniformResourceIdentifier: "u\"\\,;" })]);
  const cert = await x509.X509CertificateGenerator.create({
    subject: new x509.Name(name), issuer: new x509.Name(name), publicKey: keys.publicKey, signingKey: keys.privateKey, serialNumber: "00ff",
    notBefore: new Date("1949-01-01T00:00:00Z"), notAfter: new Date("9999-01-01T00:00:00Z"), signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
    extensions: [new x509.Extension("2.5.29.17", false, AsnConvert.serialize(san))],
  }, webcrypto);
  const der = new Uint8Array(cert.rawData);
  const parts = certificateParts(der)!;
  console.log(Buffer.from(parts.subject).equals(Buffer.from(name)), Buffer.from(parts.subject).toString("hex"), "\n", Buffer.from(name).toString("hex"));
  console.log(JSON.stringify(subjectAltNames(der)), Buffer.from(parts.certificate.tbsCertificate.serialNumber).toString("hex"));
  const t0 = performance.now();
  for (let i = 0; i < 100; i++) await x509.X509CertificateGenerator.create({ subject: new x509.Name(name), issuer: new x509.Name(name), publicKey: keys.publicKey, signingKey: keys.privateKey, serialNumber: "01", notBefore: new Date(), notAfter: new Date(), signingAlgorithm: { name: "ECDSA", hash: "SHA-256" } }, webcrypto);
  console.log("per cert ms", (performance.now() - t0) / 100);
});
