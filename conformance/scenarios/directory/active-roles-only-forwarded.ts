import { X509Certificate } from "node:crypto";
import { headerValues } from "../../../src/conformance/context.js";
import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "active-roles-only-forwarded",
  area: "directory",
  title: "A participant with an Active DADOS and an Inactive PAGTO claim is accepted on an accounts API, and the backend is told only its Active role (DADOS)",
  origin: [
    "OFB Directory swagger_participants.yaml v1.1.0: OrgDomainRoleClaims[].Status is Active | Inactive; the 2021 production data held Inactive claims — decide on Role and Status",
    "OFB DCR v2.1.0 §7.2 (our reading of the role scopes): accounts require an Active DADOS claim",
    "docs/architecture.md, decision D9: derived identity headers — profiles/ofb-identity.json x-ofb-roles: the organisation's Active roles",
  ],
  requires: ["test-pki", "second-client", "recorder"],
  async run(t) {
    // participant-b's Inactive PAGTO claim is a fact of the test PKI's Directory fixture, not of an operator's --client2-cert.
    if (!/^CN=participant-b\.tpp\.ofb-edge\.test$/m.test(new X509Certificate(t.client("participant-b").leaf).subject)) t.skipScenario("participant-b is not the test PKI's participant-b (--client2-cert given): its Directory roles are unknown");
    const res = await t.send({ as: "participant-b", path: t.paths.accounts, token: await t.boundToken("participant-b") });
    t.expectStatus(res, 200);
    const got = await t.forwarded(res);
    const roles = headerValues(got, "x-ofb-roles");
    t.check(roles.length === 1 && roles[0] === "DADOS", "the backend received exactly one x-ofb-roles: DADOS (the Inactive PAGTO claim is not listed)", roles);
  },
});
