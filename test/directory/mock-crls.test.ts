import "reflect-metadata";
import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMockDirectory, type MockDirectory } from "../../src/directory/mock.js";
import { parseCertInfo, type CertInfo } from "../../src/pki/certificate.js";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { certificateFacts } from "../../src/revocation/certificate-facts.js";
import { parseCrl } from "../../src/revocation/crl.js";
import { publicKeyOf, verifyCrl } from "../../src/revocation/signature.js";
import { testPki } from "../helpers/edge.js";

/**
 * The mock Directory publishes the test PKI's CRLs where the PKI's certificates say they are (their CRL distribution
 * points, `crlBaseUrl` + `<ca>.crl`): each one signed by the certificate's issuer, fresh, listing exactly the
 * certificates the PKI revoked — so an edge in front of it refuses the `revoked` client as it would in production.
 */

let pki: TestPkiManifest;
let mock: MockDirectory;

beforeAll(async () => {
  pki = await testPki();
  mock = await startMockDirectory({ fixtureDir: dirname(pki.directory.participants) });
});

afterAll(async () => {
  await mock?.close();
});

/** Every certificate of the PKI that names a distribution point: the clients' chains and the CAs. */
async function certificates(): Promise<CertInfo[]> {
  const pems = [...Object.values(pki.clients).map((c) => c.chain), ...Object.values(pki.ca).map((c) => c.cert)];
  const texts = await Promise.all(pems.map((f) => readFile(f, "utf8")));
  const ders = texts.flatMap((t) => t.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((pem) => new X509Certificate(pem).raw);
  return [...new Map(ders.map((der) => [der.toString("base64"), parseCertInfo(der)])).values()];
}

async function fetchCrl(url: string) {
  const res = await fetch(url.replace(new URL(pki.crlBaseUrl).origin, mock.url));
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("application/pkix-crl");
  return parseCrl(new Uint8Array(await res.arrayBuffer()));
}

describe("mock Directory: the test PKI's CRLs", () => {
  it("every distribution point a certificate names is served: a fresh CRL its issuer signed", async () => {
    const certs = await certificates();
    const cas = await Promise.all(Object.values(pki.ca).map(async (c) => parseCertInfo(new X509Certificate(await readFile(c.cert)).raw)));
    const named = certs.flatMap((cert) => certificateFacts(cert.der).crlUrls.map((url) => ({ cert, url })));
    expect(new Set(named.map((n) => new URL(n.url).pathname)).size).toBe(Object.keys(pki.ca).length);
    for (const { cert, url } of named) {
      const crl = await fetchCrl(url);
      const issuer = cas.find((ca) => ca.subjectKey === cert.issuerKey)!;
      await expect(verifyCrl(crl, issuer, publicKeyOf(issuer)), url).resolves.toBeUndefined();
      expect(crl.thisUpdate).toBeLessThanOrEqual(Date.now());
      expect(crl.nextUpdate).toBeGreaterThan(Date.now() + 3_600_000);
    }
  });

  it("the revoked client is on its AC's CRL, and no other client is listed anywhere", async () => {
    const listedOn = async (der: Uint8Array) => {
      const facts = certificateFacts(der);
      const hits = [];
      for (const url of new Set(Object.values(mock.crlUrls).flat())) {
        const res = await fetch(url);
        const crl = await parseCrl(new Uint8Array(await res.arrayBuffer()));
        if (crl.revoked.find(facts.serial, facts.serialHash) !== undefined) hits.push(new URL(url).pathname);
      }
      return hits;
    };
    const leaf = async (name: string) => new X509Certificate(await readFile(pki.clients[name]!.cert)).raw;
    expect(await listedOn(await leaf("revoked"))).toEqual([`${new URL(pki.crlBaseUrl).pathname}ssl-ac.crl`]);
    for (const name of Object.keys(pki.clients).filter((n) => n !== "revoked")) expect(await listedOn(await leaf(name)), name).toEqual([]);
  });

  it("crlUrls maps each CA, by SHA-256, to its CRL on this server (for revocation.urls)", async () => {
    const root = parseCertInfo(new X509Certificate(await readFile(pki.ca.root.cert)).raw);
    expect(Object.keys(mock.crlUrls)).toHaveLength(Object.keys(pki.ca).length);
    expect(mock.crlUrls[root.sha256]).toEqual([`${mock.url}/crl/root.crl`]);
  });

  it("HEAD answers the headers only; an unknown CRL is a JSON 404", async () => {
    const head = await fetch(`${mock.url}/crl/root.crl`, { method: "HEAD" });
    expect([head.status, head.headers.get("content-type"), await head.text()]).toEqual([200, "application/pkix-crl", ""]);
    const unknown = await fetch(`${mock.url}/crl/unknown.crl`);
    expect([unknown.status, await unknown.json()]).toEqual([404, { error: "not found" }]);
  });
});
