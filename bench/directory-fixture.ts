import { createHash, X509Certificate } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { TestPkiManifest } from "../src/pki/test-pki/manifest.js";
import { formatCnpj, withCnpjCheckDigits } from "../src/pki/test-pki/identifiers.js";
import { x5tS256 } from "../src/pki/thumbprint.js";

/**
 * A generated OFB Directory for the directory benchmark, written in the layout `startMockDirectory` serves
 * (`participants.json`, `keystore/<org>/<ss>/transport.jwks`, `…/inactive/transport.jwks`). Deterministic
 * (a seeded PRNG and name-based ids) except for the benchmark's own client, whose ids come from its test PKI.
 * Shapes follow the OFB Directory's swagger_participants.yaml v1.1.0 and keystore layout; proportions follow the
 * 2021 production `/participants` data (UUID v5 organisation ids, organisations without role claims).
 */

export interface FixtureClient {
  readonly organisationId: string;
  readonly softwareStatementId: string;
  readonly cnpj: string;
  /** DER of the client's leaf: registered as an active transport key of its software statement. */
  readonly der: Buffer;
}

export interface FixtureOptions {
  readonly dir: string;
  readonly organisations: number;
  readonly statementsPerOrganisation: number;
  readonly client: FixtureClient;
  /** DER certificates reused as the transport keys of every other software statement (minting 20,000 is slow). */
  readonly pool: readonly Buffer[];
}

/** A software statement of the fixture, for keystore lookups. */
export interface FixtureStatement {
  readonly organisationId: string;
  readonly softwareStatementId: string;
  /** The first active transport key, if any. */
  readonly thumbprint: string | null;
  /** Whether the organisation is Active with an Active DADOS claim (so a check reaches the keystore). */
  readonly usable: boolean;
}

export interface FixtureSummary {
  readonly participantsBytes: number;
  readonly organisations: number;
  readonly byStatus: Readonly<Record<string, number>>;
  readonly roleClaims: number;
  readonly inactiveRoleClaims: number;
  readonly withoutRoleClaims: number;
  readonly authorisationServers: number;
  readonly apiResources: number;
  readonly statements: readonly FixtureStatement[];
  readonly jwksFiles: number;
  readonly keystoreBytes: number;
}

const SEED = 0x0fb_2024;
/**
 * Namespace of the name-based (v5) organisation ids: real OrganisationIds are mostly UUID v5 (2021 production data).
 */
const ORG_NAMESPACE = Buffer.from("6ba7b8129dad11d180b400c04fd430c8", "hex");
const BCB_AUTHORITY_ID = "2c8fd5d3-4f5e-4e4d-9a0e-6a0b5a6c1b01";
const ROLES = ["DADOS", "PAGTO", "CONTA", "CCORR"] as const;
const FAMILIES: readonly (readonly [string, readonly string[]])[] = [
  ["accounts", ["accounts/v2/accounts", "accounts/v2/accounts/{accountId}/balances", "accounts/v2/accounts/{accountId}/transactions", "accounts/v2/accounts/{accountId}/overdraft-limits"]],
  ["consents", ["consents/v3/consents", "consents/v3/consents/{consentId}"]],
  ["resources", ["resources/v3/resources"]],
  ["customers-personal", ["customers/v2/personal/identifications", "customers/v2/personal/qualifications", "customers/v2/personal/financial-relations"]],
  ["customers-business", ["customers/v2/business/identifications", "customers/v2/business/qualifications", "customers/v2/business/financial-relations"]],
  ["credit-cards-accounts", ["credit-cards-accounts/v2/accounts", "credit-cards-accounts/v2/accounts/{creditCardAccountId}/bills", "credit-cards-accounts/v2/accounts/{creditCardAccountId}/limits"]],
  ["loans", ["loans/v2/contracts", "loans/v2/contracts/{contractId}/warranties", "loans/v2/contracts/{contractId}/payments"]],
  ["financings", ["financings/v2/contracts", "financings/v2/contracts/{contractId}/scheduled-instalments"]],
  ["invoice-financings", ["invoice-financings/v2/contracts"]],
  ["unarranged-accounts-overdraft", ["unarranged-accounts-overdraft/v2/contracts"]],
  ["payments-consents", ["payments/v4/consents", "payments/v4/consents/{consentId}"]],
  ["payments-pix", ["payments/v4/pix/payments", "payments/v4/pix/payments/{paymentId}"]],
  ["bank-fixed-incomes", ["bank-fixed-incomes/v1/investments"]],
  ["channels", ["channels/v1/branches", "channels/v1/electronic-channels", "channels/v1/phone-channels"]],
  ["products-services", ["products-services/v1/personal-accounts", "products-services/v1/business-accounts"]],
  ["discovery", ["discovery/v1/status", "discovery/v1/outages"]],
  ["admin", ["admin/v1/metrics"]],
];
const PROFILES = ["FAPI Adv. OP w/ MTLS", "FAPI Adv. OP w/ Private Key, PAR", "DCR Signed payload - JWT", "FAPI-BR OP w/ MTLS, PAR"];
const CITIES = [["São Paulo", "01310-100"], ["Rio de Janeiro", "20040-002"], ["Belo Horizonte", "30130-010"], ["Curitiba", "80020-000"], ["Porto Alegre", "90010-150"], ["Brasília", "70040-010"]] as const;
const KINDS = ["BANCO", "COOPERATIVA DE CREDITO", "SOCIEDADE DE CREDITO DIRETO", "INSTITUICAO DE PAGAMENTO", "FINANCEIRA"] as const;

/** mulberry32: small, fast and deterministic, so every run benchmarks the same document. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uuidText(bytes: Uint8Array, version: number): string {
  const b = Buffer.from(bytes.subarray(0, 16));
  b[6] = (b[6]! & 0x0f) | (version << 4);
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Every document-shaped random value, drawn from one seeded stream. */
function draw(seed: number) {
  const rand = prng(seed);
  const int = (min: number, max: number) => min + Math.floor(rand() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  const chance = (p: number) => rand() < p;
  const uuid4 = () => uuidText(Uint8Array.from({ length: 16 }, () => int(0, 255)), 4);
  const date = (year: number) => `${String(int(1, 28)).padStart(2, "0")}/${String(int(1, 12)).padStart(2, "0")}/${year}`;
  return { rand, int, pick, chance, uuid4, date };
}

/** RFC 9562 §5.5 name-based id, as the Directory's own organisation ids are. */
function uuid5(name: string): string {
  return uuidText(createHash("sha1").update(ORG_NAMESPACE).update(name).digest(), 5);
}

interface PoolKey {
  readonly x5c: string;
  readonly thumbprint: string;
  readonly members: Readonly<Record<string, string>>;
}

function poolKey(der: Buffer): PoolKey {
  const jwk = new X509Certificate(der).publicKey.export({ format: "jwk" });
  const members: Record<string, string> = {};
  for (const [k, v] of Object.entries(jwk)) if (typeof v === "string") members[k] = v;
  return { x5c: der.toString("base64"), thumbprint: x5tS256(der), members };
}

/**
 * A published transport JWK (the OFB TPP user guide's example): kid = x5t#S256 = the `.pem` name, with `x5c` and
 * `x5u`.
 */
function jwk(key: PoolKey, folder: string) {
  return { ...key.members, use: "sig", kid: key.thumbprint, x5c: [key.x5c], "x5t#S256": key.thumbprint, x5u: `https://keystore.directory.ofb-edge.test/${folder}/${key.thumbprint}.pem` };
}

/** Generates the document and keystore under `options.dir` and describes what it wrote. */
export async function writeDirectoryFixture(options: FixtureOptions): Promise<FixtureSummary> {
  const d = draw(SEED);
  const pool = options.pool.map(poolKey);
  const clientKey = poolKey(options.client.der);
  if (pool.length === 0) throw new Error("the certificate pool is empty");
  // The client's organisation sits in the middle of the document, not first.
  const clientIndex = Math.floor(options.organisations / 2);
  const files: { path: string; content: string }[] = [];
  const statements: FixtureStatement[] = [];
  const byStatus: Record<string, number> = {};
  let roleClaims = 0;
  let inactiveRoleClaims = 0;
  let withoutRoleClaims = 0;
  let authorisationServers = 0;
  let apiResources = 0;

  const organisations = Array.from({ length: options.organisations }, (_, i) => {
    const isClient = i === clientIndex;
    const id = isClient ? options.client.organisationId : uuid5(`bench-organisation-${i}`);
    const status = isClient ? "Active" : d.rand() < 0.88 ? "Active" : d.chance(0.6) ? "Pending" : "Withdrawn";
    byStatus[status] = (byStatus[status] ?? 0) + 1;
    const cnpj = isClient ? options.client.cnpj : withCnpjCheckDigits(`${d.int(10_000_000, 99_999_999)}0001`);
    const form = d.rand();
    const registrationNumber = isClient || form < 0.55 ? cnpj : form < 0.9 ? cnpj.slice(0, 8) : formatCnpj(cnpj);
    const name = `${d.pick(KINDS)} BENCH ${String(i).padStart(4, "0")} S.A.`;
    const [city, postcode] = d.pick(CITIES);
    const roles = isClient
      ? [["DADOS", "Active"], ["PAGTO", "Active"], ["CONTA", "Inactive"]]
      : [...ROLES]
          .sort(() => d.rand() - 0.5)
          .slice(0, [0, 1, 1, 2, 2, 2, 2, 3, 3, 4][d.int(0, 9)])
          .map((role) => [role, d.chance(0.85) ? "Active" : "Inactive"]);
    roleClaims += roles.length;
    inactiveRoleClaims += roles.filter(([, s]) => s === "Inactive").length;
    if (roles.length === 0) withoutRoleClaims++;
    const domain = d.chance(0.1) ? "Open Banking Brasil " : "Open Banking";
    const host = `${id.slice(0, 8)}.bench.ofb-edge.test`;
    const servers = Array.from({ length: d.chance(0.3) ? 2 : 1 }, (_, s) => {
      const asId = d.uuid4();
      const families = [...FAMILIES].sort(() => d.rand() - 0.5).slice(0, d.int(8, 12));
      apiResources += families.length;
      return {
        AuthorisationServerId: asId,
        OrganisationId: id,
        AutoRegistrationSupported: true,
        SupportsCiba: false,
        SupportsDCR: true,
        SupportsRedirect: true,
        ApiResources: families.map(([family, paths]) => ({
          ApiResourceId: d.uuid4(),
          ApiFamilyType: family,
          ApiVersion: d.pick(["2.0.1", "2.1.0", "3.0.0", "4.0.0"]),
          FamilyComplete: true,
          ApiCertificationUri: `https://github.com/OpenBanking-Brasil/conformance/blob/main/submissions/functional/${family}/${asId}.json`,
          CertificationStatus: d.pick(["Self-Certified", "Self-Certified", "Certified", "Awaiting Certification"]),
          CertificationStartDate: d.date(2024),
          CertificationExpirationDate: d.date(2025),
          ApiDiscoveryEndpoints: paths.map((path) => ({ ApiDiscoveryId: d.uuid4(), ApiEndpoint: `https://matls-api${s || ""}.${host}/open-banking/${path}` })),
        })),
        AuthorisationServerCertifications: PROFILES.slice(0, d.int(2, 4)).map((profile) => ({
          CertificationId: d.uuid4(),
          AuthorisationServerId: asId,
          Status: "Certified",
          ProfileVariant: profile,
          ProfileVersion: 1,
          CertificationStartDate: d.date(2024),
          CertificationExpirationDate: d.date(2025),
          CertificationURI: `https://openid.net/wordpress-content/uploads/2024/01/${asId.slice(0, 8)}.zip`,
        })),
        CustomerFriendlyDescription: `${name} — Open Finance`,
        CustomerFriendlyLogoUri: `https://www.${host}/logo.svg`,
        CustomerFriendlyName: name,
        DeveloperPortalUri: `https://developers.${host}/`,
        TermsOfServiceUri: `https://www.${host}/termos-de-uso`,
        NotificationWebhook: `https://webhook.${host}/open-finance`,
        NotificationWebhookStatus: "Confirmed",
        OpenIDDiscoveryDocument: `https://auth${s || ""}.${host}/.well-known/openid-configuration`,
        Issuer: `https://auth${s || ""}.${host}`,
        PayloadSigningCertLocationUri: `https://auth${s || ""}.${host}/jwks`,
        ParentAuthorisationServerId: null,
        DeprecatedDate: null,
        RetirementDate: null,
        SupersededByAuthorisationServerId: null,
      };
    });
    authorisationServers += servers.length;

    // Keystore: 10 software statements, 1–2 active transport keys (rotation), a third with inactive keys.
    const usable = status === "Active" && roles.some(([r, s]) => r === "DADOS" && s === "Active");
    for (let n = 0; n < options.statementsPerOrganisation; n++) {
      const ss = isClient && n === 0 ? options.client.softwareStatementId : d.uuid4();
      const folder = `${id}/${ss}`;
      const active = isClient && n === 0 ? [clientKey] : Array.from({ length: d.chance(0.25) ? 2 : 1 }, () => d.pick(pool));
      files.push({ path: `${folder}/transport.jwks`, content: JSON.stringify({ keys: active.map((k) => jwk(k, folder)) }) });
      if (d.chance(0.3)) {
        const inactive = Array.from({ length: d.int(1, 3) }, () => d.pick(pool));
        files.push({ path: `${folder}/inactive/transport.jwks`, content: JSON.stringify({ keys: inactive.map((k) => jwk(k, folder)) }) });
      }
      statements.push({ organisationId: id, softwareStatementId: ss, thumbprint: active[0]?.thumbprint ?? null, usable });
    }

    return {
      OrganisationId: id,
      Status: status,
      OrganisationName: name,
      CreatedOn: `202${d.int(1, 4)}-0${d.int(1, 9)}-1${d.int(0, 9)}T12:00:00.000Z`,
      LegalEntityName: name,
      CountryOfRegistration: "BR",
      CompanyRegister: "Cadastro Nacional da Pessoa Jurídica",
      Tag: null,
      Size: null,
      RegistrationNumber: registrationNumber,
      RegistrationId: cnpj.slice(0, 8),
      RegisteredName: name,
      AddressLine1: `Avenida Bench, ${d.int(1, 4000)}`,
      AddressLine2: d.chance(0.5) ? `Andar ${d.int(1, 30)}` : null,
      City: city,
      Postcode: postcode,
      Country: "BR",
      ParentOrganisationReference: d.chance(0.1) ? withCnpjCheckDigits(`${d.int(10_000_000, 99_999_999)}0001`) : "",
      Contacts: [{ ContactType: "Business", FirstName: "Equipe", LastName: "Open Finance", EmailAddress: `openfinance@${host}`, PhoneNumber: `+55 11 ${d.int(3000, 3999)}-${d.int(1000, 9999)}` }],
      AuthorisationServers: servers,
      OrgDomainClaims: [{ OrganisationAuthorityDomainClaimId: d.uuid4(), AuthorisationDomainName: "Open Banking", AuthorityId: BCB_AUTHORITY_ID, AuthorityName: "Banco Central do Brasil", RegistrationId: cnpj.slice(0, 8), Status: "Active" }],
      // Some organisations have no role claims at all (2021 production data), published as an empty array or null.
      OrgDomainRoleClaims:
        roles.length === 0 && d.chance(0.5)
          ? null
          : roles.map(([role, claimStatus]) => ({
              Status: claimStatus,
              Role: role,
              AuthorisationDomain: domain,
              RegistrationId: `${cnpj.slice(0, 8)}-OBB-${role}`,
              Authorisations: [{ Status: claimStatus, MemberState: "BR" }],
              OrganisationId: id,
              OrganisationAuthorityClaimId: d.uuid4(),
              AuthorityId: BCB_AUTHORITY_ID,
              UniqueTechnicalIdenifier: [],
            })),
    };
  });

  const participants = JSON.stringify(organisations);
  await mkdir(options.dir, { recursive: true });
  await writeFile(join(options.dir, "participants.json"), participants);
  const keystore = join(options.dir, "keystore");
  let keystoreBytes = 0;
  let next = 0;
  // Bounded concurrency: 25,000 files at once would exhaust file descriptors.
  const worker = async () => {
    while (next < files.length) {
      const file = files[next++]!;
      const path = join(keystore, file.path);
      await mkdir(join(path, ".."), { recursive: true });
      await writeFile(path, file.content);
      keystoreBytes += file.content.length;
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));

  return {
    participantsBytes: Buffer.byteLength(participants),
    organisations: organisations.length,
    byStatus,
    roleClaims,
    inactiveRoleClaims,
    withoutRoleClaims,
    authorisationServers,
    apiResources,
    statements,
    jwksFiles: files.length,
    keystoreBytes,
  };
}

/** participant-a of the test PKI, and every other client's leaf as the pool of transport keys. */
export async function clientAndPool(pki: TestPkiManifest) {
  const a = pki.clients["participant-a"];
  if (!a?.organisationId || !a.softwareStatementId || !a.cnpj) throw new Error("test PKI has no participant-a with organisation, software statement and CNPJ");
  const der = (pem: string) => Buffer.from(new X509Certificate(pem).raw);
  const client: FixtureClient & { thumbprint: string } = { organisationId: a.organisationId, softwareStatementId: a.softwareStatementId, cnpj: a.cnpj, der: der(await readFile(a.cert, "utf8")), thumbprint: a.thumbprint };
  if (x5tS256(client.der) !== a.thumbprint) throw new Error("participant-a's cert.pem does not match its manifest thumbprint");
  const pool: Buffer[] = [];
  for (const [name, c] of Object.entries(pki.clients)) if (name !== "participant-a") pool.push(der(await readFile(c.cert, "utf8")));
  return { client, pool };
}
