import { x5tS256 } from "../thumbprint.js";
import type { IssuedCertificate } from "./certificate.js";
import type { IssuedClient } from "./clients.js";
import { nodeCrypto } from "./keys.js";

/** A file of the fixture, path relative to the output directory. */
export interface FixtureFile {
  readonly path: string;
  readonly content: string;
}

/**
 * A published keystore JWK (OFB Directory keystore), transport or application alike: `kid` = `x5t#S256` = the `.pem` file
 * name.
 */
export interface PublishedJwk {
  readonly kty: string;
  readonly use: "sig";
  readonly kid: string;
  readonly n?: string;
  readonly e?: string;
  readonly crv?: string;
  readonly x?: string;
  readonly y?: string;
  readonly x5c: readonly string[];
  readonly "x5t#S256": string;
  readonly x5u: string;
}

/** Keystore folder inside the output directory. */
export const KEYSTORE_DIR = "directory/keystore";

/** The JWK the keystore publishes for a certificate; `x5u` names the `.pem` file next to the set. */
export async function publishedJwk(certificate: IssuedCertificate, x5u: (kid: string) => string): Promise<PublishedJwk> {
  const jwk = await nodeCrypto().subtle.exportKey("jwk", certificate.keys.publicKey);
  const kid = x5tS256(certificate.der);
  const keyMembers =
    jwk.kty === "RSA" ? { n: jwk.n ?? "", e: jwk.e ?? "" } : { crv: jwk.crv ?? "", x: jwk.x ?? "", y: jwk.y ?? "" };
  return {
    kty: jwk.kty ?? "RSA",
    // The OFB sandbox publishes transport keys with "use": "sig" (OFB TPP user guide, specs-seguranca
    // tpp-user-guide.md).
    use: "sig",
    kid,
    ...keyMembers,
    x5c: [Buffer.from(certificate.der).toString("base64")],
    "x5t#S256": kid,
    x5u: x5u(kid),
  };
}

/**
 * The keystore of every client with an organisation and a software statement in the Directory:
 * `<org>/<ss>/transport.jwks`, `<org>/<ss>/inactive/transport.jwks` and one `<kid>.pem` per
 * published certificate, placed as the client's {@link KeystorePlacement} says.
 */
export async function keystoreFixture(clients: readonly IssuedClient[], keystoreBaseUrl: string): Promise<FixtureFile[]> {
  const files: FixtureFile[] = [];
  for (const client of clients) {
    const { organisationId, softwareStatementId } = client.identity;
    if (client.spec.keystore === "none" || organisationId === null || softwareStatementId === null) {
      continue;
    }
    const folder = `${organisationId}/${softwareStatementId}`;
    const x5u = (kid: string) => `${keystoreBaseUrl}${folder}/${kid}.pem`;
    const active: IssuedCertificate[] = [];
    const inactive: IssuedCertificate[] = [];
    switch (client.spec.keystore) {
      case "active":
        active.push(client.leaf);
        break;
      case "inactive":
        inactive.push(client.leaf);
        break;
      case "unregistered":
        if (client.decoy !== null) {
          active.push(client.decoy);
        }
        break;
    }
    const activeKeys = await Promise.all(active.map((cert) => publishedJwk(cert, x5u)));
    const inactiveKeys = await Promise.all(inactive.map((cert) => publishedJwk(cert, x5u)));
    files.push(
      { path: `${KEYSTORE_DIR}/${folder}/transport.jwks`, content: jwksText(activeKeys) },
      { path: `${KEYSTORE_DIR}/${folder}/inactive/transport.jwks`, content: jwksText(inactiveKeys) },
      ...[...active, ...inactive].map((cert) => ({ path: `${KEYSTORE_DIR}/${folder}/${x5tS256(cert.der)}.pem`, content: cert.pem })),
    );
  }
  return files;
}

export function jwksText(keys: readonly PublishedJwk[]): string {
  return `${JSON.stringify({ keys }, null, 2)}\n`;
}
