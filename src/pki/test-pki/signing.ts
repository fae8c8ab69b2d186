import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { x5tS256 } from "../thumbprint.js";
import type { IssuedCertificate } from "./certificate.js";
import type { IssuedClient } from "./clients.js";
import type { TestHierarchy } from "./hierarchy.js";
import { KEYSTORE_DIR, jwksText, publishedJwk, type FixtureFile } from "./keystore.js";
import { issueClientCertificate } from "./leaf.js";
import { signingSubject } from "./names.js";

/** The bank the test PKI's Directory fixture holds besides the participants: the account holder that signs responses. */
export interface TestBank {
  readonly organisationId: string;
  readonly name: string;
  readonly cnpj: string;
}

/**
 * One signing key of the test PKI: whose (a client of the catalogue, or the bank) and where the keystore publishes
 * it (`<org>/application.jwks`, or only `<org>/inactive/application.jwks`).
 */
export interface SigningKeySpec {
  readonly name: string;
  readonly owner: string;
  readonly status: "active" | "inactive";
}

/** The bank's signing key's name (and its owner's). */
export const BANK = "bank";

/**
 * The signing keys the test PKI issues: participant-a's (and a second one of its, published only as inactive),
 * participant-b's and the bank's. Other organisations publish no application keys.
 */
export const SIGNING_KEYS: readonly SigningKeySpec[] = [
  { name: "participant-a", owner: "participant-a", status: "active" },
  { name: "participant-a-inactive", owner: "participant-a", status: "inactive" },
  { name: "participant-b", owner: "participant-b", status: "active" },
  { name: BANK, owner: BANK, status: "active" },
];

/** An issued signing key: its certificate (and key), its organisation and its `kid` (= `x5t#S256`, as published). */
export interface IssuedSigningKey {
  readonly spec: SigningKeySpec;
  readonly organisationId: string;
  readonly certificate: IssuedCertificate;
  readonly kid: string;
}

/** BRSEAL (OFB certificate standard): keyUsage critical digitalSignature and nonRepudiation; not for TLS, so no EKU. */
const SIGNING_KEY_USAGE = x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation;

/**
 * Issues the {@link SIGNING_KEYS} under the v5-like AC (signing certificates are issued under ICP-Brasil root v5,
 * not the v10 transport hierarchy).
 */
export async function issueSigningKeys(hierarchy: Promise<TestHierarchy>, clients: readonly IssuedClient[], bank: TestBank, now: Date): Promise<IssuedSigningKey[]> {
  const { v5Ac } = await hierarchy;
  return Promise.all(
    SIGNING_KEYS.map(async (spec) => {
      const owner = spec.owner === BANK ? { organisationId: bank.organisationId, legalName: bank.name, cnpj: bank.cnpj } : ownerOf(spec.owner, clients);
      const certificate = await issueClientCertificate(v5Ac, {
        subject: signingSubject(owner),
        now,
        keyUsage: SIGNING_KEY_USAGE,
        extendedKeyUsage: null,
        subjectAltName: null,
      });
      return { spec, organisationId: owner.organisationId, certificate, kid: x5tS256(certificate.der) };
    }),
  );
}

function ownerOf(name: string, clients: readonly IssuedClient[]) {
  const client = clients.find((c) => c.spec.name === name);
  if (!client?.identity.organisationId) throw new Error(`signing key owner '${name}' is not a client with an organisation id`);
  return { organisationId: client.identity.organisationId, legalName: client.identity.organizationName, cnpj: client.identity.cnpj };
}

/**
 * The organisations' application keystore: `<org>/application.jwks` (active keys), `<org>/inactive/application.jwks`
 * and one `<kid>.pem` per key, for every organisation with a signing key.
 */
export async function applicationKeystoreFixture(keys: readonly IssuedSigningKey[], keystoreBaseUrl: string): Promise<FixtureFile[]> {
  const files: FixtureFile[] = [];
  for (const org of new Set(keys.map((k) => k.organisationId))) {
    const x5u = (kid: string) => `${keystoreBaseUrl}${org}/${kid}.pem`;
    const own = keys.filter((k) => k.organisationId === org);
    const jwks = async (status: SigningKeySpec["status"]) => jwksText(await Promise.all(own.filter((k) => k.spec.status === status).map((k) => publishedJwk(k.certificate, x5u))));
    files.push(
      { path: `${KEYSTORE_DIR}/${org}/application.jwks`, content: await jwks("active") },
      { path: `${KEYSTORE_DIR}/${org}/inactive/application.jwks`, content: await jwks("inactive") },
      ...own.map((k) => ({ path: `${KEYSTORE_DIR}/${org}/${k.kid}.pem`, content: k.certificate.pem })),
    );
  }
  return files;
}
