import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { readFile } from "node:fs/promises";
import { loadTrustAnchors, type TrustAnchors } from "../../src/pki/anchors.js";
import { parseCertInfo, type CertInfo } from "../../src/pki/certificate.js";
import { loadTestCa, type TestCa, type TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { createLogger, type Logger } from "../../src/log/logger.js";

/** The run's test PKI as the revocation tests use it: CAs with keys, anchors, and chains as chain policy builds them. */
export interface RevocationPki {
  readonly root: TestCa;
  readonly sslAc: TestCa;
  readonly otherAc: TestCa;
  readonly anchors: TrustAnchors;
  readonly rootInfo: CertInfo;
  readonly sslAcInfo: CertInfo;
  /** [leaf, ssl-ac, root] of a manifest client. */
  chain(name: string): Promise<CertInfo[]>;
}

export async function revocationPki(pki: TestPkiManifest): Promise<RevocationPki> {
  const [root, sslAc, otherAc, anchorsPem] = await Promise.all([loadTestCa(pki.ca.root), loadTestCa(pki.ca.sslAc), loadTestCa(pki.ca.otherAc), readFile(pki.trustAnchors, "utf8")]);
  const anchors = loadTrustAnchors([{ source: pki.trustAnchors, text: anchorsPem }]);
  const rootInfo = parseCertInfo(root.der);
  const sslAcInfo = parseCertInfo(sslAc.der);
  return {
    root,
    sslAc,
    otherAc,
    anchors,
    rootInfo,
    sslAcInfo,
    async chain(name) {
      const client = pki.clients[name];
      if (!client) throw new Error(`no test client '${name}'`);
      const leaf = new x509.X509Certificate(await readFile(client.cert, "utf8"));
      return [parseCertInfo(new Uint8Array(leaf.rawData)), sslAcInfo, rootInfo];
    },
  };
}

/** A CRL issued by `ca` (DER): see src/pki/test-pki/crl.ts. */
export { signTestCrl as signCrl, type TestCrlSpec as CrlSpec } from "../../src/pki/test-pki/crl.js";

/** The serial of a certificate in the hex @peculiar/x509 takes (`X509CrlEntryParams.serialNumber`). */
export function serialOf(cert: TestCa | CertInfo): string {
  return new x509.X509Certificate("cert" in cert ? cert.cert.rawData : cert.der).serialNumber;
}

/** A debug logger whose lines land in `lines` (parsed). */
export function captureLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: "debug" }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

export const HOUR = 3_600_000;
