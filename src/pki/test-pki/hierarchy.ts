import { addDays, type IssuedCertificate, type TestCa } from "./certificate.js";
import { createTestCa } from "./ca.js";
import { generateKeyPair } from "./keys.js";
import { issueServerCertificate } from "./leaf.js";
import { caName, encodeName, OID } from "./names.js";

/** The CAs and the server certificate of the generated PKI. */
export interface TestHierarchy {
  /** Test stand-in for "Autoridade Certificadora Raiz Brasileira v10" (ITI repository). */
  readonly root: TestCa;
  /**
   * The AC that issues transport certificates, like the v10 SSL EV ACs the ITI bundle lists directly under the root.
   */
  readonly sslAc: TestCa;
  readonly expiredAc: TestCa;
  /** basicConstraints CA:FALSE, yet it issues a leaf. */
  readonly nonCaIssuer: TestCa;
  /** Issued by ssl-ac although ssl-ac has pathLenConstraint 0. */
  readonly subAc: TestCa;
  readonly otherRoot: TestCa;
  readonly otherAc: TestCa;
  /**
   * An AC under the root whose own subject is UTF8String, while the leaves it issues write their issuer field
   * as PrintableString: the same name under RFC 5280 §7.1, other bytes (as real ICP-Brasil ACs do).
   */
  readonly stringTypesAc: TestCa;
  /** A valid AC under the root that the transport bundle leaves out, as ITI drops ACs before they expire. */
  readonly retiredAc: TestCa;
  /** Test stand-in for "Autoridade Certificadora Raiz Brasileira v5", the signing (e-CNPJ, e-CPF) hierarchy. */
  readonly v5Root: TestCa;
  /** Test stand-in for "AC Secretaria da Receita Federal do Brasil v4", which issues e-CNPJ certificates under v5. */
  readonly v5Ac: TestCa;
  readonly server: IssuedCertificate;
}

const ROOT_CN = "Autoridade Certificadora Raiz Brasileira v10 TESTE";
const V5_ROOT_CN = "Autoridade Certificadora Raiz Brasileira v5 TESTE";
const ICP_O = "ICP-Brasil TESTE";
const ITI_OU = "Instituto Nacional de Tecnologia da Informacao - ITI (TESTE)";

function acName(commonName: string, parent = ROOT_CN) {
  return caName({ organization: ICP_O, organizationalUnits: [parent], commonName });
}

/**
 * Builds the CA hierarchies and the server certificate: a root-v10-like transport hierarchy, a v5-like signing
 * hierarchy and an unrelated one. Keys are generated concurrently (RSA 4096 only for the v10-like root);
 * certificates are signed parent first.
 */
export async function createHierarchy(input: {
  readonly now: Date;
  readonly crlBaseUrl: string;
  readonly hostnames: readonly string[];
}): Promise<TestHierarchy> {
  const { now, crlBaseUrl } = input;
  const crl = (name: string) => `${crlBaseUrl}${name}.crl`;
  const [rootKeys, sslKeys, expiredKeys, nonCaKeys, subKeys, otherRootKeys, otherAcKeys, serverKeys, stringTypesKeys, retiredKeys, v5RootKeys, v5AcKeys] = await Promise.all([
    generateKeyPair({ algorithm: "RSA", modulusLength: 4096 }),
    ...Array.from({ length: 11 }, () => generateKeyPair()),
  ]);

  const root = await createTestCa({
    subject: caName({
      organization: ICP_O,
      organizationalUnits: [ITI_OU],
      commonName: ROOT_CN,
    }),
    keys: rootKeys,
    signatureHash: "SHA-512",
    now,
    crlUrl: crl("root"),
  });
  const [sslAc, expiredAc, nonCaIssuer, otherRoot, stringTypesAc, retiredAc, v5Root] = await Promise.all([
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
    createTestCa({ subject: acName("AC TESTE SSL EV G5"), issuer: root, keys: stringTypesKeys, now, basicConstraints: { ca: true, pathLength: 0 }, crlUrl: crl("string-types-ac") }),
    createTestCa({ subject: acName("AC TESTE SSL EV V4 REMOVIDA"), issuer: root, keys: retiredKeys, now, basicConstraints: { ca: true, pathLength: 0 }, crlUrl: crl("retired-ac") }),
    createTestCa({
      subject: caName({ organization: ICP_O, organizationalUnits: [ITI_OU], commonName: V5_ROOT_CN }),
      keys: v5RootKeys,
      signatureHash: "SHA-512",
      now,
      crlUrl: crl("v5-root"),
    }),
  ]);
  const [subAc, otherAc, server, v5Ac] = await Promise.all([
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
    createTestCa({
      subject: acName("AC Secretaria da Receita Federal do Brasil v4 TESTE", V5_ROOT_CN),
      issuer: v5Root,
      keys: v5AcKeys,
      now,
      crlUrl: crl("v5-ac"),
    }),
  ]);
  return { root, sslAc, expiredAc, nonCaIssuer, subAc, otherRoot, otherAc, stringTypesAc, retiredAc, v5Root, v5Ac, server };
}
