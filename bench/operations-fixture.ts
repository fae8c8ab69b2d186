import { createPrivateKey, randomBytes, randomUUID, X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { openRedisDenyList, type DenyEntry, type DenyKind } from "../src/deny/deny-list.js";
import { parseCertInfo, type CertInfo } from "../src/pki/certificate.js";
import { loadTestCa, type TestPkiManifest } from "../src/pki/test-pki/manifest.js";
import { certificateFacts } from "../src/revocation/certificate-facts.js";
import { parseCrl } from "../src/revocation/crl.js";
import { serialHash } from "../src/revocation/serial-index.js";
import { publicKeyOf, verifyCrl } from "../src/revocation/signature.js";
import { randomSerials, signedCrl } from "./crl-der.js";

/** What bench/operations.ts puts in front of the `on` edge: the test PKI's CRLs and a deny list in Redis. */

const DAY = 86_400_000;

/** One AC's CRL as served: where, for which AC (`revocation.urls` key), how big. */
export interface ServedCrl {
  readonly path: string;
  readonly ac: CertInfo;
  readonly der: Buffer;
  readonly serials: number;
}

/**
 * The CRLs of the test PKI's chain, signed with its CA keys, valid for a day: ssl-ac's lists `serials` random
 * 16-byte serials plus the `revoked` client's serial (and never participant-a's); the root's lists nothing (it
 * covers ssl-ac). Each is checked here as the edge will: parsed, its signature verified against its AC and its
 * index asked for both clients' serials. Returns the CRLs and what is wrong with them (nothing, normally).
 */
export async function testPkiCrls(pki: TestPkiManifest, serials: number, now: number): Promise<{ crls: ServedCrl[]; failures: string[] }> {
  const [root, sslAc] = await Promise.all([loadTestCa(pki.ca.root), loadTestCa(pki.ca.sslAc)]);
  const serialOf = async (name: string) => {
    const file = pki.clients[name]?.cert;
    if (!file) throw new Error(`test PKI has no ${name}`);
    return certificateFacts(new X509Certificate(await readFile(file)).raw).serial;
  };
  const [revoked, accepted] = [await serialOf("revoked"), await serialOf("participant-a")];
  const [rootInfo, sslAcInfo] = [parseCertInfo(root.der), parseCertInfo(sslAc.der)];
  const crl = (ac: CertInfo, keyPem: string, packed: Buffer | undefined, extra: Uint8Array[]) =>
    signedCrl({ issuerDer: ac.subjectDer, key: createPrivateKey(keyPem), ...(packed && { serials: packed }), extra, now, validMs: DAY });
  const crls: ServedCrl[] = [
    { path: "/ssl-ac.crl", ac: sslAcInfo, der: crl(sslAcInfo, sslAc.keyPem, randomSerials(serials), [revoked]), serials: serials + 1 },
    { path: "/root.crl", ac: rootInfo, der: crl(rootInfo, root.keyPem, undefined, []), serials: 0 },
  ];

  const failures: string[] = [];
  for (const { path, ac, der, serials: listed } of crls) {
    const parsed = await parseCrl(der);
    await verifyCrl(parsed, ac, publicKeyOf(ac)).catch((err: Error) => failures.push(`${path}: signature: ${err.message}`));
    if (parsed.revoked.size !== listed) failures.push(`${path}: ${parsed.revoked.size} serials indexed, ${listed} listed`);
    const has = (serial: Uint8Array) => parsed.revoked.find(serial, serialHash(serial)) !== undefined;
    if (path === "/ssl-ac.crl" && !has(revoked)) failures.push(`${path}: the revoked client's serial is not found`);
    if (has(accepted)) failures.push(`${path}: participant-a's serial is listed`);
  }
  return { crls, failures };
}

/** A plain-HTTP CRL repository on 127.0.0.1 serving `crls`, counting the requests. */
export async function startCrlServer(crls: readonly ServedCrl[]) {
  const byPath = new Map(crls.map((c) => [c.path, c.der]));
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    const der = byPath.get(new URL(req.url ?? "/", "http://x").pathname);
    if (!der) return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": "application/pkix-crl", "content-length": der.length }).end(der);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: (path: string) => `${base}${path}`,
    requests: () => requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Fills the deny list at `url`/`keyPrefix` through the edge's own code (`DenyList.add`, the hash
 * `<prefix>deny`) with `count` entries: `denied` (a thumbprint, x5t#S256) and random others, mostly thumbprints,
 * a tenth each organisations and software statements, a quarter of them expiring in a day. Returns the
 * entries the list then holds, by kind.
 */
export async function seedDenyList(url: string, keyPrefix: string, count: number, denied: string): Promise<Record<DenyKind, number>> {
  const list = await openRedisDenyList({ url, keyPrefix, connectTimeoutMs: 5_000, subscribe: false });
  try {
    const addedAt = new Date().toISOString();
    const entry = (kind: DenyKind, value: string, i: number): DenyEntry => ({ kind, value, reason: `bench entry ${i}`, addedAt, expiresAt: i % 4 === 3 ? new Date(Date.now() + DAY).toISOString() : null });
    const others = Array.from({ length: count - 1 }, (_, i) =>
      i % 10 === 8 ? entry("organisation", randomUUID(), i) : i % 10 === 9 ? entry("software-statement", randomUUID(), i) : entry("thumbprint", randomBytes(32).toString("base64url"), i),
    );
    await Promise.all([...others, { ...entry("thumbprint", denied, count), reason: "bench: participant-b denied" }].map((e) => list.add(e)));
    const kinds: Record<DenyKind, number> = { thumbprint: 0, organisation: 0, "software-statement": 0 };
    for (const e of await list.list()) kinds[e.kind]++;
    return kinds;
  } finally {
    await list.close();
  }
}
