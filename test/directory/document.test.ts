import { readFile } from "node:fs/promises";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { parseJsonDocument, parseParticipants } from "../../src/directory/document.js";
import type { Organisation } from "../../src/directory/types.js";
import { CLIENT_CATALOGUE, loadTestPki, type TestPkiManifest } from "../../src/pki/test-pki/index.js";

const ORG_ID = "f6eacc55-c81f-5226-9b5a-6e0de5e1e6a1";

/** A minimal valid Organisation object of `/participants` (swagger_participants.yaml v1.1.0) with some members replaced. */
function entry(changes: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    OrganisationId: ORG_ID,
    Status: "Active",
    OrganisationName: "BANCO TESTE S.A.",
    RegistrationNumber: "92702067000130",
    OrgDomainRoleClaims: [{ Role: "DADOS", Status: "Active", AuthorisationDomain: "Open Banking" }],
    ...changes,
  };
}

function one(changes: Record<string, unknown>): Organisation {
  const [org] = parseParticipants([entry(changes)]);
  return org!;
}

describe("parseParticipants: the generated Directory fixture", () => {
  let pki: TestPkiManifest;
  let organisations: readonly Organisation[];

  beforeAll(async () => {
    pki = await loadTestPki(inject("pkiDir"));
    organisations = parseParticipants(parseJsonDocument(await readFile(pki.directory.participants, "utf8"), "participants.json"));
  });

  it("holds every client organisation the catalogue publishes, with its status and roles, and no other client", () => {
    const byId = new Map(organisations.map((org) => [org.id, org]));
    for (const spec of CLIENT_CATALOGUE) {
      const orgId = pki.clients[spec.name]!.organisationId;
      if (spec.directory === null || orgId === null) {
        if (orgId !== null) expect(byId.has(orgId.toLowerCase()), spec.name).toBe(false);
        continue;
      }
      const org = byId.get(orgId.toLowerCase());
      expect(org?.status, spec.name).toBe(spec.directory.status);
      expect(org?.roles.map((r) => [r.role, r.status]), spec.name).toEqual(spec.directory.roles.map((r) => [r.role, r.status]));
    }
    // Two organisations without certificates complete the fixture.
    expect(organisations).toHaveLength(CLIENT_CATALOGUE.filter((spec) => spec.directory !== null && pki.clients[spec.name]!.organisationId !== null).length + 2);
  });

  it("normalises each RegistrationNumber form the fixture uses back to the certificate's CNPJ or its root (2021 production data)", () => {
    const org = (name: string) => organisations.find((o) => o.id === pki.clients[name]!.organisationId!.toLowerCase())!;
    expect(org("participant-a").registrationNumber).toBe(pki.clients["participant-a"]!.cnpj);
    expect(org("participant-b").registrationNumber).toBe(pki.clients["participant-b"]!.cnpj!.slice(0, 8));
    // participant-c: alphanumeric CNPJ published punctuated ("12.ABC.345/01DE-35").
    expect(org("participant-c").registrationNumber).toBe(pki.clients["participant-c"]!.cnpj);
    expect(org("participant-c").roles).toEqual([{ role: "PAGTO", status: "Active", domain: "Open Banking Brasil" }]);
  });
});

describe("parseParticipants: data-format drift of the real Directory is accepted (2021 production data)", () => {
  it.each([
    ["8-digit CNPJ root (2021)", "92702067", "92702067"],
    ["14 digits", "07853842000135", "07853842000135"],
    ["punctuated", "13.353.236/001-89", "1335323600189"],
    ["punctuated with spaces", " 07.853.842/0001-35 ", "07853842000135"],
    ["alphanumeric, lower case", "12.abc.345/01de-35", "12ABC34501DE35"],
    ["absent", undefined, ""],
    ["null", null, ""],
  ])("RegistrationNumber %s", (_form, value, expected) => {
    expect(one({ RegistrationNumber: value }).registrationNumber).toBe(expected);
  });

  it.each([
    ["version 5", "f6eacc55-c81f-5226-9b5a-6e0de5e1e6a1"],
    ["version 4", "6850e112-0d2b-4f92-8955-993e6b9426d2"],
    ["version 1", "c232ab00-9414-11ec-b3c8-9f6bdeced846"],
    ["upper case", "F6EACC55-C81F-5226-9B5A-6E0DE5E1E6A1"],
  ])("OrganisationId as a UUID of %s, lower-cased", (_form, id) => {
    expect(one({ OrganisationId: id }).id).toBe(id.toLowerCase());
  });

  it("ApiVersion as a number or a string inside AuthorisationServers", () => {
    const resource = (ApiVersion: unknown) => ({ ApiFamilyType: "accounts", ApiVersion, ApiDiscoveryEndpoints: [] });
    const servers = [{ AuthorisationServerId: "88dc57a4-1dab-4493-8b02-b8f0c15a2d89", ApiResources: [resource(1), resource("2.0.1"), resource(null)] }];
    expect(one({ AuthorisationServers: servers }).id).toBe(ORG_ID);
  });

  it("AuthorisationDomain with a trailing space is trimmed; Role is trimmed and upper-cased; Status is kept as published", () => {
    const roles = [
      { Role: " pagto ", Status: "Inactive", AuthorisationDomain: "Open Banking Brasil " },
      { Role: "DADOS", Status: "Suspended", AuthorisationDomain: null },
    ];
    expect(one({ OrgDomainRoleClaims: roles }).roles).toEqual([
      { role: "PAGTO", status: "Inactive", domain: "Open Banking Brasil" },
      { role: "DADOS", status: "Suspended", domain: "" },
    ]);
  });

  it.each([
    ["absent", undefined],
    ["null", null],
    ["empty", []],
  ])("OrgDomainRoleClaims %s means no roles", (_form, claims) => {
    expect(one({ OrgDomainRoleClaims: claims }).roles).toEqual([]);
  });

  it("null or non-string names fall back from OrganisationName to RegisteredName to LegalEntityName", () => {
    expect(one({ OrganisationName: null, RegisteredName: "REGISTERED S.A." }).name).toBe("REGISTERED S.A.");
    expect(one({ OrganisationName: 42, RegisteredName: "", LegalEntityName: "LEGAL ENTITY S.A." }).name).toBe("LEGAL ENTITY S.A.");
    expect(one({ OrganisationName: null }).name).toBe("");
  });

  it("an unknown organisation Status is kept as is, so the check stage fails it closed", () => {
    expect(one({ Status: "Suspended" }).status).toBe("Suspended");
  });

  it("unknown fields anywhere are ignored and only the Organisation fields are kept", () => {
    const org = one({
      FutureField: { nested: [1, 2, 3] },
      Contacts: [{ ContactType: "Business", EmailAddress: "x@example.test" }],
      OrgDomainRoleClaims: [{ Role: "DADOS", Status: "Active", AuthorisationDomain: "Open Banking", UniqueTechnicalIdenifier: ["x"], Extra: true }],
    });
    expect(org).toEqual({ id: ORG_ID, status: "Active", name: "BANCO TESTE S.A.", registrationNumber: "92702067000130", roles: [{ role: "DADOS", status: "Active", domain: "Open Banking" }] });
    expect(Object.isFrozen(org) && Object.isFrozen(org.roles)).toBe(true);
  });

  it("a realistic 2021 production entry: integer ApiVersion, no CertificationStatus, 'Open Banking Brasil ' domain, Inactive PAGTO", () => {
    // Shape of the 2021 production `/participants` response (59 organisations, as published in 2021).
    const raw = [
      {
        Status: "Active",
        OrgDomainRoleClaims: [
          { Status: "Active", AuthorisationDomain: "Open Banking", Role: "DADOS", RegistrationId: "92702067-OBB-DADOS", Authorisations: [] },
          { Status: "Inactive", AuthorisationDomain: "Open Banking Brasil ", Role: "PAGTO", RegistrationId: "92702067-OBB-PAGTO", Authorisations: [] },
        ],
        AuthorisationServers: [
          {
            PayloadSigningCertLocationUri: "https://openbanking.example.com.br/naoseaplica",
            ParentAuthorisationServerId: null,
            OpenIDDiscoveryDocument: "https://openbanking.example.com.br/.well-known/openid-configuration",
            CustomerFriendlyName: "BANCO EXEMPLO",
            CustomerFriendlyDescription: "",
            ApiResources: [
              {
                ApiFamilyType: "products-services",
                ApiVersion: 1,
                ApiResourceId: "296d89d0-8b55-4da6-8882-44827220d126",
                ApiDiscoveryEndpoints: [{ ApiDiscoveryId: "6229cd93-7f81-4579-8c98-99de521e2f74", ApiEndpoint: "https://openbanking.example.com.br/open-banking/products-services/v1" }],
              },
            ],
            AutoRegistrationSupported: true,
            AuthorisationServerId: "88dc57a4-1dab-4493-8b02-b8f0c15a2d89",
          },
        ],
        OrgDomainClaims: [{ Status: "Active", AuthorityName: "Banco Central do Brasil", RegistrationId: "", AuthorisationDomainName: "Open Banking" }],
        RegistrationId: "92702067",
        OrganisationId: "2a01e202-e8f0-5f5a-9651-ebc257371e6e",
        City: "Porto Alegre, RS",
        RegisteredName: "BANCO EXEMPLO DO SUL S.A.",
        LegalEntityName: "BANCO EXEMPLO DO SUL S.A.",
        OrganisationName: "BCO EXEMPLO DO SUL S.A.",
        RegistrationNumber: "92702067",
        CreatedOn: "2021-01-07 16:17:25.696",
        ParentOrganisationReference: "",
        CompanyRegister: "Cadastro Nacional da Pessoa Jurídica",
        CountryOfRegistration: "BR",
      },
    ];
    expect(parseParticipants(raw)).toEqual([
      {
        id: "2a01e202-e8f0-5f5a-9651-ebc257371e6e",
        status: "Active",
        name: "BCO EXEMPLO DO SUL S.A.",
        registrationNumber: "92702067",
        roles: [
          { role: "DADOS", status: "Active", domain: "Open Banking" },
          { role: "PAGTO", status: "Inactive", domain: "Open Banking Brasil" },
        ],
      },
    ]);
  });
});
