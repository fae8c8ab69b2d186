import { randomUUID } from "node:crypto";
import { addDays } from "./certificate.js";
import type { DirectoryEntrySpec, RoleClaimSpec } from "./client-catalogue.js";
import type { IssuedClient } from "./clients.js";
import { formatCnpj, organisationId, randomCnpj } from "./identifiers.js";
import type { TestBank } from "./signing.js";

/** One organisation to publish in `participants.json`. */
interface OrganisationInput {
  readonly organisationId: string;
  readonly name: string;
  readonly cnpj: string;
  readonly entry: DirectoryEntrySpec;
  readonly createdOn: string;
}

/** The Directory's fixed BCB authority id is not public; any stable UUID serves the fixture. */
const BCB_AUTHORITY_ID = "2c8fd5d3-4f5e-4e4d-9a0e-6a0b5a6c1b01";
const DIRECTORY_DOMAIN = "Open Banking";

function registrationNumber(cnpj: string, form: DirectoryEntrySpec["registrationNumber"]): string {
  switch (form ?? "full") {
    case "root":
      return cnpj.slice(0, 8);
    case "formatted":
      return formatCnpj(cnpj);
    case "full":
      return cnpj;
  }
}

function roleClaim(org: OrganisationInput, claim: RoleClaimSpec) {
  return {
    Status: claim.status,
    Role: claim.role,
    AuthorisationDomain: claim.domain ?? DIRECTORY_DOMAIN,
    RegistrationId: `${org.cnpj.slice(0, 8)}-OBB-${claim.role}`,
    Authorisations: [{ Status: claim.status, MemberState: "BR" }],
    OrganisationId: org.organisationId,
    OrganisationAuthorityClaimId: randomUUID(),
    AuthorityId: BCB_AUTHORITY_ID,
    UniqueTechnicalIdenifier: [],
  };
}

function authorisationServer(org: OrganisationInput) {
  const domain = `${org.organisationId.slice(0, 8)}.bank.ofb-edge.test`;
  const host = `auth.${domain}`;
  const apiVersion = org.entry.numericApiVersion === true ? 1 : "2.0.1";
  const resource = (family: string, path: string) => ({
    ApiResourceId: randomUUID(),
    ApiFamilyType: family,
    ApiVersion: apiVersion,
    FamilyComplete: true,
    ApiDiscoveryEndpoints: [{ ApiDiscoveryId: randomUUID(), ApiEndpoint: `https://api.${domain}/open-banking/${path}` }],
  });
  return {
    AuthorisationServerId: randomUUID(),
    OrganisationId: org.organisationId,
    AutoRegistrationSupported: true,
    SupportsCiba: false,
    SupportsDCR: true,
    CustomerFriendlyName: org.name,
    CustomerFriendlyDescription: `${org.name} (test fixture)`,
    CustomerFriendlyLogoUri: `https://${host}/logo.svg`,
    DeveloperPortalUri: `https://${host}/developers`,
    TermsOfServiceUri: `https://${host}/terms`,
    OpenIDDiscoveryDocument: `https://${host}/.well-known/openid-configuration`,
    Issuer: `https://${host}`,
    PayloadSigningCertLocationUri: `https://${host}/jwks`,
    ParentAuthorisationServerId: null,
    AuthorisationServerCertifications: [],
    ApiResources: [resource("accounts", "accounts/v2/accounts"), resource("consents", "consents/v2/consents")],
  };
}

function organisation(org: OrganisationInput) {
  return {
    OrganisationId: org.organisationId,
    Status: org.entry.status,
    OrganisationName: org.name,
    CreatedOn: org.createdOn,
    LegalEntityName: org.name,
    CountryOfRegistration: "BR",
    CompanyRegister: "Cadastro Nacional da Pessoa Jurídica",
    RegistrationNumber: registrationNumber(org.cnpj, org.entry.registrationNumber),
    RegisteredName: org.name,
    AddressLine1: "Avenida Paulista, 1000",
    City: "São Paulo",
    Postcode: "01310-100",
    Country: "BR",
    ParentOrganisationReference: "",
    AuthorisationServers: [authorisationServer(org)],
    OrgDomainClaims: [
      {
        OrganisationAuthorityDomainClaimId: randomUUID(),
        AuthorisationDomainName: DIRECTORY_DOMAIN,
        AuthorityId: BCB_AUTHORITY_ID,
        AuthorityName: "Banco Central do Brasil",
        RegistrationId: org.cnpj.slice(0, 8),
        Status: "Active",
      },
    ],
    OrgDomainRoleClaims: org.entry.roles.map((claim) => roleClaim(org, claim)),
  };
}

/** An Organisation object of `/participants` (OFB Directory swagger_participants.yaml v1.1.0). */
export type ParticipantOrganisation = ReturnType<typeof organisation>;

/** The account holder of the fixture: the bank behind the edge, whose signing key signs responses. */
export function testBank(): TestBank {
  return { organisationId: organisationId(), name: "BANCO DETENTOR TESTE S/A", cnpj: randomCnpj() };
}

/** Organisations without client certificates (the bank, a correspondent), so the fixture is not only the orgs under test. */
function extraOrganisations(createdOn: string, bank: TestBank): OrganisationInput[] {
  return [
    {
      organisationId: bank.organisationId,
      name: bank.name,
      cnpj: bank.cnpj,
      entry: { status: "Active", roles: [{ role: "CONTA", status: "Active" }, { role: "DADOS", status: "Active" }] },
      createdOn,
    },
    {
      organisationId: organisationId(),
      name: "CORRESPONDENTE TESTE LTDA",
      cnpj: randomCnpj(),
      entry: { status: "Active", roles: [{ role: "CCORR", status: "Active" }, { role: "PAGTO", status: "Inactive" }] },
      createdOn,
    },
  ];
}

/** `participants.json`: every client organisation present in the Directory, plus the bank and a correspondent. */
export function participantsFixture(clients: readonly IssuedClient[], now: Date, bank: TestBank): ParticipantOrganisation[] {
  const createdOn = addDays(now, -400).toISOString();
  const fromClients = clients.flatMap((client): OrganisationInput[] =>
    client.spec.directory === null || client.identity.organisationId === null
      ? []
      : [
          {
            organisationId: client.identity.organisationId,
            name: client.identity.organizationName,
            cnpj: client.identity.cnpj,
            entry: client.spec.directory,
            createdOn,
          },
        ],
  );
  return [...fromClients, ...extraOrganisations(createdOn, bank)].map(organisation);
}

/**
 * `roles.json` in the `/roles` shape (OpenBanking-Brasil/conformance export_data/models/Roles.go), derived from the
 * same organisations.
 */
export function rolesFixture(participants: readonly ParticipantOrganisation[]) {
  return participants.map((org) => ({
    OrganisationId: org.OrganisationId,
    Status: org.Status,
    RegistrationNumber: org.RegistrationNumber,
    RegisteredName: org.RegisteredName,
    ParentOrganisationReference: org.ParentOrganisationReference,
    OrgDomainClaims: org.OrgDomainClaims.map((claim) => ({
      AuthorisationDomainName: claim.AuthorisationDomainName,
      Status: claim.Status,
    })),
    OrgDomainRoleClaims: org.OrgDomainRoleClaims.map((claim) => ({
      AuthorisationDomainName: claim.AuthorisationDomain,
      AuthorisationDomainRoleName: claim.Role,
      Status: claim.Status,
    })),
  }));
}
