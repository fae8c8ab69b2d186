import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "invalid-cnpj-rejected",
  area: "certificate",
  title: "A client certificate whose CNPJ (subject serialNumber) has a wrong check digit is rejected (401 IDENTITY_CNPJ_INVALID) and nothing is forwarded",
  origin: [
    "OFB certificate standard (ofb-facts §4.1): serialNumber (2.5.4.5) = the organisation's CNPJ, 14 characters",
    "IN RFB nº 2.229/2024 (icp-brasil-facts §6): two mod-11 check digits over the 12 base characters",
    "DESIGN §3 participant identity: 2.5.4.5 → CNPJ",
  ],
  requires: ["test-pki", "token"],
  async run(t) {
    const res = await t.send({ as: "cnpj-invalid", token: await t.boundToken("participant-a") });
    await t.expectRejected(res, { status: 401, code: "IDENTITY_CNPJ_INVALID", orHandshakeRefused: true });
  },
});
