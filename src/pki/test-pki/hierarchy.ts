import { addDays, type IssuedCertificate, type TestCa } from "./certificate.js";
import { createTestCa } from "./ca.js";
import { generateKeyPair } from "./keys.js";
import { issueServerCertificate } from "./leaf.js";
import { caName, encodeName, OID } from "./names.js";

/** The CAs and the server certificate of the generated PKI. */
export interface TestHierarchy {
  /** Test stand-in for "Autoridade Certificadora Raiz Brasileira v10" (icp-brasil-facts §2.1). */
  readonly root: TestCa;
  /** The AC that issues transport certificates, like the v10 SSL EV ACs (icp-brasil-facts §2.3). */
  readonly sslAc: TestCa;
  readonly expiredAc: TestCa;
  /** basicConstraints CA:FALSE, yet it issues a leaf. */
  readonly nonCaIssuer: TestCa;
  /** Issued by ssl-ac although ssl-ac has pathLenConstraint 0. */
  readonly subAc: TestCa;
  readonly otherRoot: TestCa;
  readonly otherAc: TestCa;
  readonly server: IssuedCertificate;
}

const ROOT_CN = "Autoridade Certificadora Raiz Brasileira v10 TESTE";
const ICP_O = "ICP-Brasil TESTE";

function acName(commonName: string, parent = ROOT_CN) {
  return caName({ organization: ICP_O, organizationalUnits: [parent], commonName });
}

/**
 * Builds the CA hierarchy and the server certificate. Keys are generated concurrently (RSA 4096 only
 * for the root); certificates are signed parent first.
 */
export async function createHierarchy(input: {
  readonly now: Date;
  readonly crlBaseUrl: string;
  readonly hostnames: readonly string[];
}): Promise<TestHierarchy> {
  const { now, crlBaseUrl } = input;
  const crl = (name: string) => `${crlBaseUrl}${name}.crl`;
  const [rootKeys, sslKeys, expiredKeys, nonCaKeys, subKeys, otherRootKeys, otherAcKeys, serverKeys] = await Promise.all([
    generateKeyPair({ algorithm: "RSA", modulusLength: 4096 }),
    generateKeyPair(),
    generateKeyPair(),
    generateKeyPair(),
    generateKeyPair(),
    generateKeyPair(),
    generateKeyPair(),
    generateKeyPair(),
  ]);

  const root = await createTestCa({
    subject: caName({
      organization: ICP_O,
      organizationalUnits: ["Instituto Nacional de Tecnologia da Informacao - ITI (TESTE)"],
      commonName: ROOT_CN,
    }),
    keys: rootKeys,
    signatureHash: "SHA-512",
    now,
    crlUrl: crl("root"),
  });
  const [sslAc, expiredAc, nonCaIssuer, otherRoot] = await Promise.all([
    createTestCa({
      subject: acName("AC TESTE SSL EV G4"),
      issuer: root,
      keys: sslKeys,
      now,
      basicConstraints: { ca: true, pathLength: 0 },
      crlUrl: crl("ssl-ac"),
    }),
    createTestCa({
      subject: acName("AC TESTE SSL EXPIRADA"),
      issuer: root,
      keys: expiredKeys,
      notBefore: addDays(now, -730),
      notAfter: addDays(now, -1),
      crlUrl: crl("expired-ac"),
    }),
    createTestCa({
      subject: acName("AC TESTE SEM BIT CA"),
      issuer: root,
      keys: nonCaKeys,
      now,
      basicConstraints: { ca: false },
      crlUrl: crl("non-ca-issuer"),
    }),
    createTestCa({
      subject: caName({ organization: "Outra Infraestrutura TESTE", commonName: "Outra Raiz TESTE" }),
      keys: otherRootKeys,
      now,
      crlUrl: crl("other-root"),
    }),
  ]);
  const [subAc, otherAc, server] = await Promise.all([
    createTestCa({
      subject: acName("AC TESTE SUBORDINADA", "AC TESTE SSL EV G4"),
      issuer: sslAc,
      keys: subKeys,
      now,
      crlUrl: crl("sub-ac"),
    }),
    createTestCa({
      subject: caName({ organization: "Outra Infraestrutura TESTE", organizationalUnits: ["Outra Raiz TESTE"], commonName: "Outra AC TESTE" }),
      issuer: otherRoot,
      keys: otherAcKeys,
      now,
      crlUrl: crl("other-ac"),
    }),
    issueServerCertificate(sslAc, {
      subject: encodeName([{ type: OID.commonName, value: "localhost", encoding: "utf8" }]),
      keys: serverKeys,
      now,
      subjectAltName: { dnsNames: ["localhost", ...input.hostnames], ipAddresses: ["127.0.0.1", "::1"] },
    }),
  ]);
  return { root, sslAc, expiredAc, nonCaIssuer, subAc, otherRoot, otherAc, server };
}
