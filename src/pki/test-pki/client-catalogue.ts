import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { addDays, addHours } from "./certificate.js";
import { testExtension, type LeafOptions } from "./leaf.js";
import type { StringEncoding, SubjectLayout } from "./names.js";

/** An OFB regulatory role (OFB DCR v2.1.0 §7.2). */
export type RoleName = "DADOS" | "PAGTO" | "CONTA" | "CCORR";

/** One `OrgDomainRoleClaims[]` entry to publish. */
export interface RoleClaimSpec {
  readonly role: RoleName;
  readonly status: "Active" | "Inactive";
  /**
   * Default `Open Banking`; real data also holds `Open Banking Brasil ` with a trailing space (2021 production
   * `/participants`).
   */
  readonly domain?: string;
}

/** Which CA issues a client certificate. */
export type IssuerId = "sslAc" | "expiredAc" | "nonCaIssuer" | "subAc" | "otherAc" | "stringTypesAc" | "retiredAc" | "v5Ac" | "self";

/**
 * The trust-anchor files of the test PKI: `root` (`ca/trust-anchors.pem`, the root only), `bundle`
 * (`ca/transport-bundle.pem`, the root and its transport ACs, as `ofb-edge trust fetch` writes) and `allRoots`
 * (`ca/all-roots.pem`, every root of the PKI, as an operator who loads every ICP-Brasil root gets).
 */
export type AnchorFileId = "root" | "bundle" | "allRoots";

/**
 * Where the client's key sits in the Directory keystore (OFB DCR v2.1.0 §9.4): `active` in `transport.jwks`,
 * `inactive` in `inactive/transport.jwks`, `unregistered` (the software statement's JWKS exist and
 * hold another certificate, not this one), `none` (no JWKS for this client at all).
 */
export type KeystorePlacement = "active" | "inactive" | "unregistered" | "none";

/** The Directory entry of a client's organisation; `null` in {@link ClientSpec.directory}: absent. */
export interface DirectoryEntrySpec {
  readonly status: "Active" | "Pending" | "Withdrawn";
  readonly roles: readonly RoleClaimSpec[];
  /**
   * Form of `RegistrationNumber` (2021 production `/participants`): 14 characters, the 8-digit root, or punctuated.
   */
  readonly registrationNumber?: "full" | "root" | "formatted";
  /** `ApiVersion` as a JSON number (2021 data) instead of a string. */
  readonly numericApiVersion?: boolean;
}

/** One client certificate of the generated PKI and the outcome the edge must produce for it. */
export interface ClientSpec {
  readonly name: string;
  readonly description: string;
  /** `"accept"` or the reason code the edge must return, with `ca/trust-anchors.pem` (the root only). */
  readonly expect: string;
  /** The outcome with the other trust-anchor files where it differs from {@link expect}. */
  readonly expectWith?: Partial<Record<Exclude<AnchorFileId, "root">, string>>;
  readonly issuer: IssuerId;
  /** The issuer field's string type when it is not the issuer's subject, byte for byte. */
  readonly issuerNameEncoding?: StringEncoding;
  /** `ofb`: an OFB transport subject (default); `e-cnpj`: an e-CNPJ A1 (legal entity) certificate of the v5 hierarchy. */
  readonly subject?: "ofb" | "e-cnpj";
  readonly layout: SubjectLayout;
  readonly organisationIdPrefix: string;
  readonly withSoftwareStatementId: boolean;
  readonly withOrganisationId: boolean;
  readonly cnpj: "numeric" | "alphanumeric" | "invalid";
  readonly businessCategory: string;
  readonly locality: string;
  readonly state: string;
  readonly directory: DirectoryEntrySpec | null;
  readonly keystore: KeystorePlacement;
  /** Overrides of the BRCAC defaults, relative to `now`. */
  readonly leaf: (now: Date) => Partial<Omit<LeafOptions, "subject">>;
}

const DADOS_AND_PAGTO: readonly RoleClaimSpec[] = [
  { role: "DADOS", status: "Active" },
  { role: "PAGTO", status: "Active" },
];

const PARTICIPANT_A: Omit<ClientSpec, "name" | "description" | "expect"> = {
  issuer: "sslAc",
  layout: "standard-2023",
  organisationIdPrefix: "OFBBR-",
  withSoftwareStatementId: true,
  withOrganisationId: true,
  cnpj: "numeric",
  businessCategory: "Private Organization",
  locality: "São Paulo",
  state: "SP",
  directory: { status: "Active", roles: DADOS_AND_PAGTO },
  keystore: "active",
  leaf: () => ({}),
};

function like(name: string, expect: string, description: string, changes: Partial<ClientSpec> = {}): ClientSpec {
  return { ...PARTICIPANT_A, name, expect, description, ...changes };
}

/** A revoked certificate's code; the CRL that lists it is produced elsewhere. */
const CERT_REVOKED = "CERT_REVOKED";
/** A denied certificate's code; the deny-list entry is added by whoever runs the edge (conformance local stack). */
const CERT_DENIED = "CERT_DENIED";

/**
 * Every client of the generated PKI. Bad certificates are participant-a with one defect, each with its
 * own organisation and software statement, so nothing but that defect can explain a rejection.
 */
export const CLIENT_CATALOGUE: readonly ClientSpec[] = [
  like("participant-a", "accept", "OFBBR- organizationIdentifier, 2023 standard RDN order, UTF8String values; DADOS and PAGTO Active"),
  like("participant-b", "accept", "Legacy OU=<orgId>, Soluti pre-2022 RDN order, PrintableString values; DADOS Active, PAGTO Inactive: accept on data routes only", {
    layout: "soluti-legacy-ou",
    locality: "Goiania",
    state: "GO",
    directory: {
      status: "Active",
      roles: [
        { role: "DADOS", status: "Active" },
        { role: "PAGTO", status: "Inactive" },
      ],
      registrationNumber: "root",
      numericApiVersion: true,
    },
  }),
  like("participant-c", "accept", "OFBBR-, Serpro reverse RDN order, Business Entity, alphanumeric CNPJ; PAGTO Active only: accept on payment routes only", {
    layout: "serpro-reverse",
    businessCategory: "Business Entity",
    cnpj: "alphanumeric",
    locality: "Rio de Janeiro",
    state: "RJ",
    directory: {
      status: "Active",
      roles: [{ role: "PAGTO", status: "Active", domain: "Open Banking Brasil " }],
      registrationNumber: "formatted",
    },
  }),
  like("participant-pending", "DIRECTORY_ORG_PENDING", "Organisation Status Pending", {
    directory: { status: "Pending", roles: [{ role: "DADOS", status: "Active" }] },
  }),
  like("participant-withdrawn", "DIRECTORY_ORG_WITHDRAWN", "Organisation Status Withdrawn", {
    directory: { status: "Withdrawn", roles: [{ role: "DADOS", status: "Active" }] },
  }),
  like("participant-no-roles", "DIRECTORY_ROLE_MISSING", "Organisation Active with OrgDomainRoleClaims: []", {
    directory: { status: "Active", roles: [] },
  }),
  like("participant-unknown-org", "DIRECTORY_ORG_UNKNOWN", "Valid certificate whose organisation is absent from the Directory (and its keystore)", {
    directory: null,
    keystore: "none",
  }),
  like("participant-inactive-key", "DIRECTORY_KEY_INACTIVE", "Organisation Active with DADOS; key only in inactive/transport.jwks", {
    directory: { status: "Active", roles: [{ role: "DADOS", status: "Active" }] },
    keystore: "inactive",
  }),
  like("participant-unregistered-key", "DIRECTORY_KEY_UNREGISTERED", "Organisation Active with DADOS; the software statement's transport.jwks holds another certificate, not this one", {
    directory: { status: "Active", roles: [{ role: "DADOS", status: "Active" }] },
    keystore: "unregistered",
  }),
  like("expired", "CERT_EXPIRED", "Leaf notAfter = now − 1 hour", { leaf: (now) => ({ notAfter: addHours(now, -1) }) }),
  like("not-yet-valid", "CERT_NOT_YET_VALID", "Leaf notBefore = now + 1 day", { leaf: (now) => ({ notBefore: addDays(now, 1) }) }),
  like("server-auth-only", "CERT_INVALID_PURPOSE", "EKU serverAuth only", {
    leaf: () => ({ extendedKeyUsage: [x509.ExtendedKeyUsage.serverAuth] }),
  }),
  like("no-eku", "CERT_EKU_CLIENT_AUTH_MISSING", "No extendedKeyUsage extension", { leaf: () => ({ extendedKeyUsage: null }) }),
  like("no-digital-signature", "CERT_KEY_USAGE_INVALID", "keyUsage keyEncipherment only", {
    leaf: () => ({ keyUsage: x509.KeyUsageFlags.keyEncipherment }),
  }),
  like("rsa-1024", "CERT_KEY_TOO_WEAK", "RSA 1024-bit key", { leaf: () => ({ key: { algorithm: "RSA", modulusLength: 1024 } }) }),
  like("sha1", "CERT_SIGNATURE_WEAK", "Leaf signed by ssl-ac with sha1WithRSAEncryption", { leaf: () => ({ signatureHash: "SHA-1" }) }),
  like("self-signed", "CERT_SELF_SIGNED", "Self-signed leaf with an OFB subject", { issuer: "self" }),
  like("other-ca", "CERT_UNTRUSTED", "Issued by other-ca/ac, an unrelated hierarchy; chain.pem carries other-ca/ac. With every root loaded: CERT_HIERARCHY_NOT_TRANSPORT", {
    issuer: "otherAc",
    expectWith: { allRoots: "CERT_HIERARCHY_NOT_TRANSPORT" },
  }),
  like("expired-intermediate", "CERT_EXPIRED", "Issued by ca/expired-ac, which expired yesterday", { issuer: "expiredAc" }),
  like("non-ca-issuer", "CERT_CHAIN_INVALID", "Issued by ca/non-ca-issuer, whose basicConstraints is CA:FALSE", { issuer: "nonCaIssuer" }),
  like("pathlen-exceeded", "CERT_CHAIN_INVALID", "Issued by ca/sub-ac, which ssl-ac (pathLenConstraint 0) should not have issued; chain.pem = leaf, sub-ac, ssl-ac", {
    issuer: "subAc",
  }),
  like("unknown-critical-extension", "CERT_CHAIN_INVALID", "Extra critical extension 1.3.6.1.4.1.55555.1.1", {
    leaf: () => ({ extensions: [testExtension("1.3.6.1.4.1.55555.1.1")] }),
  }),
  like("no-uid", "IDENTITY_SOFTWARE_STATEMENT_MISSING", "No UID (software statement id) in the subject", {
    withSoftwareStatementId: false,
    keystore: "none",
  }),
  like("no-org-id", "IDENTITY_ORGANISATION_MISSING", "Neither 2.5.4.97 nor OU in the subject", {
    withOrganisationId: false,
    directory: null,
    keystore: "none",
  }),
  like("open-insurance", "IDENTITY_OPEN_INSURANCE_NOT_ALLOWED", "organizationIdentifier OPIBR-<uuid> (Open Insurance); not in the OFB Directory", {
    organisationIdPrefix: "OPIBR-",
    directory: null,
    keystore: "none",
  }),
  like("cnpj-invalid", "accept", "serialNumber (CNPJ) with a wrong check digit: forwarded with x-ofb-cnpj-verified: false (policy.cnpj refuse: IDENTITY_CNPJ_INVALID)", { cnpj: "invalid" }),
  like("participant-printable-issuer", "accept", "Issued by ca/string-types-ac, whose own subject is UTF8String while this leaf's issuer field is PrintableString (the same name under RFC 5280 §7.1)", {
    issuer: "stringTypesAc",
    issuerNameEncoding: "printable",
  }),
  like("participant-retired-ac", "accept", "Issued by ca/retired-ac, a valid AC under the root that ca/transport-bundle.pem leaves out: CERT_ISSUER_NOT_ALLOWED with that bundle", {
    issuer: "retiredAc",
    expectWith: { bundle: "CERT_ISSUER_NOT_ALLOWED" },
  }),
  like("e-cnpj", "CERT_UNTRUSTED", "e-CNPJ A1 of the v5-like hierarchy (otherNames 2.16.76.1.3.2/.3/.4/.7, CN RAZAO SOCIAL:CNPJ, clientAuth): not a transport certificate, not an OFB participant. With every root loaded: CERT_HIERARCHY_NOT_TRANSPORT", {
    issuer: "v5Ac",
    subject: "e-cnpj",
    withOrganisationId: false,
    withSoftwareStatementId: false,
    directory: null,
    keystore: "none",
    expectWith: { allRoots: "CERT_HIERARCHY_NOT_TRANSPORT" },
    leaf: () => ({
      keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation | x509.KeyUsageFlags.keyEncipherment,
      extendedKeyUsage: [x509.ExtendedKeyUsage.clientAuth, x509.ExtendedKeyUsage.emailProtection],
    }),
  }),
  like("revoked", CERT_REVOKED, "Valid certificate whose serial number goes on ssl-ac's CRL"),
  like("denied", CERT_DENIED, "Valid certificate whose thumbprint goes on the operator's deny list"),
];
