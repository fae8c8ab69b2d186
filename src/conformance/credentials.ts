import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseIdentity } from "../identity/index.js";
import { x5tS256 } from "../pki/thumbprint.js";
import type { TestPkiManifest } from "../pki/test-pki/index.js";
import type { ClientCredentials } from "./environment.js";

/** Every client of a test PKI by name, read once. */
export function credentialsFromPki(pki: TestPkiManifest): (name: string) => ClientCredentials | undefined {
  const all = new Map<string, ClientCredentials>(
    Object.entries(pki.clients).map(([name, c]) => [
      name,
      {
        name,
        chain: readFileSync(c.chain),
        leaf: readFileSync(c.cert),
        key: readFileSync(c.key),
        thumbprint: c.thumbprint,
        organisationId: c.organisationId,
        softwareStatementId: c.softwareStatementId,
        cnpj: c.cnpj,
      },
    ]),
  );
  return (name) => all.get(name);
}

/**
 * Credentials from an operator's PEM files (target mode): `certFile` holds the leaf first, then its
 * intermediates. The identity fields are read from the leaf by OID, as the edge reads them (null when unreadable).
 */
export function credentialsFromFiles(name: string, certFile: string, keyFile: string): ClientCredentials {
  const chain = readFileSync(certFile);
  const first = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\s*/.exec(chain.toString("utf8"));
  if (!first) throw new Error(`${certFile}: no PEM certificate`);
  const leaf = Buffer.from(first[0]);
  const der = new X509Certificate(leaf).raw;
  const parsed = parseIdentity(der, { allowOpenInsurance: true });
  return {
    name,
    chain,
    leaf,
    key: readFileSync(keyFile),
    thumbprint: x5tS256(der),
    organisationId: parsed.ok ? parsed.identity.organisationId : null,
    softwareStatementId: parsed.ok ? parsed.identity.softwareStatementId : null,
    cnpj: parsed.ok ? parsed.identity.cnpj : null,
  };
}
