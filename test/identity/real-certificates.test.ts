import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseIdentity } from "../../src/identity/index.js";
import { packageRoot } from "../../src/package-root.js";
import { certificateDer } from "../trust/real-fixtures.js";

const fixture = (...path: string[]) => join(packageRoot(), "test", "fixtures", ...path);
/** The certificate's DER as a TLS peer sends it (the certificate element only, whatever follows it in the file). */
const der = certificateDer;
/** The OFB sandbox's own client certificate, as the OpenID conformance suite's unit test carries it (SOURCES.md). */
const SANDBOX = fixture("ofb-sandbox", "brcac-sandbox-g1-13353236.der");

describe("identity of real certificates", () => {
  it("accepts the OFB sandbox client certificate with its 13-digit serialNumber, flagged as unverified (default)", () => {
    expect(parseIdentity(der(SANDBOX), { allowOpenInsurance: false })).toMatchObject({
      ok: true,
      identity: {
        organisationId: "74e929d9-33b6-4d85-8ba7-c146c867a817",
        organisationIdSource: "OU",
        softwareStatementId: "be42d3a5-9861-4305-9deb-a22756ea7e82",
        cnpj: "1335323600189",
        cnpjVerified: false,
        issuerDn: "CN=Open Banking SANDBOX Issuing CA - G1,OU=Open Banking,O=Open Banking Brasil,C=BR",
      },
    });
  });

  it("refuses the same certificate with policy.cnpj refuse (IDENTITY_CNPJ_INVALID)", () => {
    expect(parseIdentity(der(SANDBOX), { allowOpenInsurance: false, cnpj: "refuse" })).toEqual({
      ok: false,
      code: "IDENTITY_CNPJ_INVALID",
      detail: 'serialNumber (2.5.4.5) "1335323600189" fails the CNPJ check digits (policy.cnpj refuse)',
    });
  });

  it.each([
    ["brcac-soluti-ssl-ev-g4.pem", "d7384bd0-842f-43c5-be02-9d2b2d5efc2c", "70ee2970-038b-44d6-9300-d3af3a890154", "43142666000197"],
    ["brcac-serpro-sslv1.pem", "d7384bd0-842f-43c5-be02-9d2b2d5efc2c", "21ef921f-7d9f-4fa5-afae-d24545d6c880", "43142666000197"],
    ["brcac-certisign-ssl-ev-g4.pem", "79717d71-0cf4-58f6-b2d0-370d5404d383", "9a4c69f8-3ed6-4641-87de-9354bb8bb69a", "33264668000103"],
    ["brcac-serasa-ssl-ev-v3.pem", "d7384bd0-842f-43c5-be02-9d2b2d5efc2c", "bc97b8f0-cae0-4f2f-9978-d93f0e56a833", "43142666000197"],
  ])("reads the real transport certificate %s: organisation, software statement, verified CNPJ", (file, organisationId, softwareStatementId, cnpj) => {
    for (const policy of ["flag", "refuse"] as const) {
      expect(parseIdentity(der(fixture("icp-brasil", "leaves", file)), { allowOpenInsurance: false, cnpj: policy })).toMatchObject({
        ok: true,
        identity: { organisationId, organisationIdSource: "organizationIdentifier", softwareStatementId, cnpj, cnpjVerified: true },
      });
    }
  });
});
