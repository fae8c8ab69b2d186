import { X509Certificate } from "node:crypto";
import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "role-checked-per-request-on-one-connection",
  area: "directory",
  title: "On one kept-alive connection, a participant with an Active DADOS but an Inactive PAGTO claim is served on an accounts API and then refused on a payments API (403 DIRECTORY_ROLE_INACTIVE), which is not forwarded",
  origin: [
    "OFB DCR v2.1.0 §7.2 (our reading of the role scopes): the role follows the API family of each request — accounts need DADOS, payments need PAGTO",
    "OFB Directory swagger_participants.yaml v1.1.0: OrgDomainRoleClaims[].Status is Active | Inactive",
    "docs/architecture.md §Directory: the Directory verdict is remembered per connection, snapshot and role — never reused for another role",
  ],
  requires: ["test-pki", "second-client"],
  async run(t) {
    // participant-b's Inactive PAGTO claim is a fact of the test PKI's Directory fixture, not of an operator's --client2-cert.
    if (!/^CN=participant-b\.tpp\.ofb-edge\.test$/m.test(new X509Certificate(t.client("participant-b").leaf).subject)) t.skipScenario("participant-b is not the test PKI's participant-b (--client2-cert given): its Directory roles are unknown");
    const agent = t.agent("participant-b");
    const token = await t.boundToken("participant-b");
    const accounts = await t.send({ agent, path: t.paths.accounts, token });
    t.expectStatus(accounts, 200);
    const payments = await t.send({ agent, path: t.paths.payments, token });
    await t.expectRejected(payments, { status: 403, code: "DIRECTORY_ROLE_INACTIVE" });
  },
});
