import { X509Certificate } from "node:crypto";
import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "role-inactive-for-route-rejected",
  area: "directory",
  title: "A participant whose PAGTO role claim is Inactive is refused on a payments API (403 DIRECTORY_ROLE_INACTIVE) and nothing is forwarded",
  origin: [
    "OFB Directory swagger_participants.yaml v1.1.0: OrgDomainRoleClaims[].Status is Active | Inactive; the 2021 production data held Inactive PAGTO claims",
    "OFB DCR v2.1.0 §7.2: active roles must be validated; our reading of its role scopes: payment families require an Active PAGTO claim",
    "docs/architecture.md §Directory",
  ],
  requires: ["test-pki", "token"],
  async run(t) {
    // participant-b's Inactive PAGTO claim is a fact of the test PKI's Directory fixture, not of an operator's --client2-cert.
    if (!/^CN=participant-b\.tpp\.ofb-edge\.test$/m.test(new X509Certificate(t.client("participant-b").leaf).subject)) t.skipScenario("participant-b is not the test PKI's participant-b (--client2-cert given): its Directory roles are unknown");
    const res = await t.send({ as: "participant-b", path: t.paths.payments, token: await t.boundToken("participant-a") });
    await t.expectRejected(res, { status: 403, code: "DIRECTORY_ROLE_INACTIVE" });
  },
});
