import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import type { TestCa } from "./certificate.js";
import { nodeCrypto, signingKeyFor } from "./keys.js";

export interface TestCrlSpec {
  readonly revoked?: readonly { readonly serial: string; readonly reason?: x509.X509CrlReason; readonly at?: Date }[];
  readonly thisUpdate: Date;
  /** `null`: no nextUpdate. */
  readonly nextUpdate: Date | null;
  /** Sign with this CA's key instead of the issuer's own (the issuer name stays `ca`'s): a forged CRL. */
  readonly signWith?: TestCa;
  readonly extensions?: x509.Extension[];
  /** The issuer field as written; default `ca`'s subject byte for byte (real ACs may use other string types). */
  readonly issuerName?: x509.Name;
}

/** A CRL issued by `ca` (DER), signed with SHA-256 by X509CrlGenerator. TEST ONLY. */
export async function signTestCrl(ca: TestCa, spec: TestCrlSpec): Promise<Uint8Array> {
  const signing = await signingKeyFor((spec.signWith ?? ca).keys.privateKey, "SHA-256");
  const crl = await x509.X509CrlGenerator.create(
    {
      issuer: spec.issuerName ?? new x509.Name(ca.cert.subjectName.toArrayBuffer()),
      thisUpdate: spec.thisUpdate,
      ...(spec.nextUpdate ? { nextUpdate: spec.nextUpdate } : {}),
      entries: (spec.revoked ?? []).map((r) => ({ serialNumber: r.serial, revocationDate: r.at ?? spec.thisUpdate, ...(r.reason !== undefined ? { reason: r.reason } : {}) })),
      ...(spec.extensions ? { extensions: spec.extensions } : {}),
      signingKey: signing.key,
      signingAlgorithm: signing.algorithm,
    },
    nodeCrypto(),
  );
  return new Uint8Array(crl.rawData);
}

/** The serial of a certificate in the hex @peculiar/x509 takes (`X509CrlEntryParams.serialNumber`). */
export function testSerialOf(der: Uint8Array): string {
  return new x509.X509Certificate(der).serialNumber;
}
