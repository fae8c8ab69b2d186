import type { IssuedCertificate, TestCa } from "./certificate.js";
import { CLIENT_CATALOGUE, type ClientSpec, type IssuerId } from "./client-catalogue.js";
import type { TestHierarchy } from "./hierarchy.js";
import { organisationId, randomCnpj, softwareStatementId, withCnpjCheckDigits, withWrongCheckDigit } from "./identifiers.js";
import { generateKeyPair } from "./keys.js";
import { issueClientCertificate, type LeafOptions } from "./leaf.js";
import { eCnpjSubject, ofbSubject, reencodeName } from "./names.js";

/** The participant data a client certificate carries. */
export interface ClientIdentity {
  /** Organisation id in the subject (after its prefix), `null` when the subject has none. */
  readonly organisationId: string | null;
  readonly softwareStatementId: string | null;
  readonly cnpj: string;
  readonly commonName: string;
  readonly organizationName: string;
}

/** An issued client: its spec, identity, leaf, the issuers `chain.pem` appends, and any decoy key. */
export interface IssuedClient {
  readonly spec: ClientSpec;
  readonly identity: ClientIdentity;
  readonly leaf: IssuedCertificate;
  /** Certificates after the leaf in `chain.pem`, nearest issuer first. */
  readonly issuers: readonly TestCa[];
  /** For `keystore: "unregistered"`: another certificate of the same software statement, published instead. */
  readonly decoy: IssuedCertificate | null;
}

/** The alphanumeric CNPJ example of IN RFB nº 2.229/2024's calculation: `12ABC34501DE` + check digits `35`. */
const ALPHANUMERIC_CNPJ_BASE = "12ABC34501DE";

function identityFor(spec: ClientSpec): ClientIdentity {
  const cnpj =
    spec.cnpj === "alphanumeric"
      ? withCnpjCheckDigits(ALPHANUMERIC_CNPJ_BASE)
      : spec.cnpj === "invalid"
        ? withWrongCheckDigit(randomCnpj())
        : randomCnpj();
  const label = spec.name.toUpperCase().replace(/-/g, " ");
  return {
    organisationId: spec.withOrganisationId ? organisationId() : null,
    softwareStatementId: spec.withSoftwareStatementId ? softwareStatementId() : null,
    cnpj,
    commonName: spec.subject === "e-cnpj" ? `${label} TESTE LTDA:${cnpj}` : `${spec.name}.tpp.ofb-edge.test`,
    // Printable characters only, so the legacy (all PrintableString) layout can carry it.
    organizationName: `${label} TESTE S/A`,
  };
}

function issuersFor(id: IssuerId, hierarchy: TestHierarchy): readonly TestCa[] {
  switch (id) {
    case "self":
      return [];
    case "subAc":
      return [hierarchy.subAc, hierarchy.sslAc];
    default:
      return [hierarchy[id]];
  }
}

/**
 * An e-CNPJ A1's SubjectAltName: the legal-entity otherNames of DOC-ICP-04 (Resolução CG ICP-Brasil 128/2017),
 * with synthetic data for the responsible person, in the value types real certificates mix.
 */
function eCnpjSubjectAltName(identity: ClientIdentity): NonNullable<LeafOptions["subjectAltName"]> {
  // 2.16.76.1.3.4: birth date (8) + CPF (11) + NIS (11) + RG (15, alphanumeric) + RG issuer and UF.
  const responsible = `01011980${"12345678909"}${"0".repeat(11)}${"X1234567".padStart(15, "0")}SSPSP`;
  return {
    otherNames: [
      { oid: "2.16.76.1.3.4", value: responsible, encoding: "octet" },
      { oid: "2.16.76.1.3.2", value: "RESPONSAVEL TESTE", encoding: "printable" },
      { oid: "2.16.76.1.3.3", value: identity.cnpj, encoding: "printable" },
      { oid: "2.16.76.1.3.7", value: "0".repeat(12), encoding: "octet" },
    ],
  };
}

function subjectFor(spec: ClientSpec, identity: ClientIdentity) {
  if (spec.subject === "e-cnpj") return eCnpjSubject({ razaoSocial: identity.commonName.split(":")[0]!, cnpj: identity.cnpj, registrationAuthorityCnpj: randomCnpj() });
  return ofbSubject({
    commonName: identity.commonName,
    softwareStatementId: identity.softwareStatementId,
    organisationId: identity.organisationId,
    organisationIdPrefix: spec.organisationIdPrefix,
    cnpj: identity.cnpj,
    organizationName: identity.organizationName,
    locality: spec.locality,
    state: spec.state,
    businessCategory: spec.businessCategory,
    layout: spec.layout,
  });
}

async function issueClient(spec: ClientSpec, hierarchy: Promise<TestHierarchy>, now: Date): Promise<IssuedClient> {
  const identity = identityFor(spec);
  const subject = subjectFor(spec, identity);
  const overrides: Partial<Omit<LeafOptions, "subject">> = { ...(spec.subject === "e-cnpj" && { subjectAltName: eCnpjSubjectAltName(identity) }), ...spec.leaf(now) };
  // Key generation dominates the run and needs no CA, so it overlaps with building the hierarchy.
  const [keys, decoyKeys] = await Promise.all([
    overrides.keys ?? generateKeyPair(overrides.key),
    spec.keystore === "unregistered" ? generateKeyPair() : null,
  ]);
  const issuers = issuersFor(spec.issuer, await hierarchy);
  const issuer = issuers[0] ?? "self";
  const issuerName = issuer !== "self" && spec.issuerNameEncoding ? { issuerName: reencodeName(issuer.cert.subjectName, spec.issuerNameEncoding) } : {};
  const [leaf, decoy] = await Promise.all([
    issueClientCertificate(issuer, { subject, now, ...overrides, ...issuerName, keys }),
    decoyKeys === null ? null : issueClientCertificate(issuer, { subject, now, keys: decoyKeys }),
  ]);
  return { spec, identity, leaf, issuers, decoy };
}

/** Issues every client of {@link CLIENT_CATALOGUE} concurrently, generating keys while `hierarchy` is built. */
export function issueClients(hierarchy: Promise<TestHierarchy>, now: Date): Promise<IssuedClient[]> {
  return Promise.all(CLIENT_CATALOGUE.map((spec) => issueClient(spec, hierarchy, now)));
}
