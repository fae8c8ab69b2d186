import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseCertInfo, type CertInfo } from "../../src/pki/certificate.js";
import { caName, createTestCa, issueClientCertificate, ofbSubject, organisationId, randomCnpj, softwareStatementId, type TestCa } from "../../src/pki/test-pki/index.js";
import { serialOf } from "./fixtures.js";

/** P-256 keys: generated in milliseconds, where each RSA key of a test PKI costs a good part of a second. */
const KEY = { algorithm: "ECDSA", namedCurve: "P-256" } as const;

/** A client of a {@link DpPki}: its files as the edge and a TLS client read them, and its chain as chain policy builds it. */
export interface DpClient {
  readonly chainFile: string;
  readonly keyFile: string;
  readonly serial: string;
  readonly chain: readonly CertInfo[];
}

/**
 * A small ICP-Brasil-shaped hierarchy whose CRL distribution points name the test's own CRL server, as real
 * certificates name their ACs' repositories: a root (its CRL at `crlUrl("root")`, named by each AC), two ACs
 * `a` and `b` (their CRLs at `crlUrl("a")`, `crlUrl("b")`, named by their leaves) and an AC `bare` whose leaves
 * name no distribution point. Each AC issues a `good` and a `revoked` OFB transport certificate. Files:
 * `anchors` holds the root alone; `anchorsWithAcs` the root and its ACs, as `ofb-edge trust fetch` writes them.
 */
export async function createDpPki(dir: string, crlUrl: (name: string) => string) {
  const root = await createTestCa({ subject: caName({ organization: "ICP-Brasil TESTE DP", commonName: "Raiz TESTE DP" }), crlUrl: crlUrl("root"), key: KEY });
  const ac = (name: string, url: string | null) =>
    createTestCa({ subject: caName({ organization: "ICP-Brasil TESTE DP", organizationalUnits: ["Raiz TESTE DP"], commonName: `AC TESTE DP ${name.toUpperCase()}` }), issuer: root, crlUrl: url, basicConstraints: { ca: true, pathLength: 0 }, key: KEY });
  const [a, b, bare] = await Promise.all([ac("a", crlUrl("a")), ac("b", crlUrl("b")), ac("bare", null)]);
  const acs = { a, b, bare } as const;
  const info = { root: parseCertInfo(root.der), a: parseCertInfo(a.der), b: parseCertInfo(b.der), bare: parseCertInfo(bare.der) };
  const anchors = join(dir, "anchors.pem");
  const anchorsWithAcs = join(dir, "anchors-with-acs.pem");
  await Promise.all([writeFile(anchors, pems(root.pem)), writeFile(anchorsWithAcs, pems(root.pem, a.pem, b.pem, bare.pem))]);

  async function client(acName: keyof typeof acs, name: string): Promise<DpClient> {
    const issuer: TestCa = acs[acName];
    const leaf = await issueClientCertificate(issuer, {
      key: KEY,
      subject: ofbSubject({
        commonName: `${name}.${acName}.dp.ofb-edge.test`,
        softwareStatementId: softwareStatementId(),
        organisationId: organisationId(),
        cnpj: randomCnpj(),
        organizationName: `${name.toUpperCase()} ${acName.toUpperCase()} TESTE S/A`,
        locality: "Sao Paulo",
        state: "SP",
      }),
    });
    const base = join(dir, `${acName}-${name}`);
    await Promise.all([writeFile(`${base}.chain.pem`, pems(leaf.pem, issuer.pem)), writeFile(`${base}.key.pem`, leaf.keyPem)]);
    const leafInfo = parseCertInfo(leaf.der);
    return { chainFile: `${base}.chain.pem`, keyFile: `${base}.key.pem`, serial: serialOf(leafInfo), chain: [leafInfo, info[acName], info.root] };
  }

  const [aGood, aRevoked, bGood, bRevoked, bareGood] = await Promise.all([client("a", "good"), client("a", "revoked"), client("b", "good"), client("b", "revoked"), client("bare", "good")]);
  const clients = { a: { good: aGood, revoked: aRevoked }, b: { good: bGood, revoked: bRevoked }, bare: { good: bareGood } };
  return { root, acs, info, anchors, anchorsWithAcs, clients };
}

export type DpPki = Awaited<ReturnType<typeof createDpPki>>;

/** PEM blocks one after the other, each ending with a line break. */
function pems(...blocks: readonly string[]): string {
  return blocks.map((b) => (b.endsWith("\n") ? b : `${b}\n`)).join("");
}
