import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "role-absent-for-route-rejected",
  area: "directory",
  title: "A payment initiator holding only the PAGTO role is refused on an accounts API (403 DIRECTORY_ROLE_MISSING) and nothing is forwarded",
  origin: [
    "OFB DCR v2.1.0 §7.2 (our reading of the role scopes): data-sharing families such as accounts require an Active DADOS claim; PAGTO allows payments scopes only",
    "OFB DCR v2.1.0 §7.2: active roles in the software statement must be validated",
    "docs/architecture.md §Directory",
  ],
  requires: ["test-pki", "token"],
  async run(t) {
    const res = await t.send({ as: "participant-c", path: t.paths.accounts, token: await t.boundToken("participant-a") });
    await t.expectRejected(res, { status: 403, code: "DIRECTORY_ROLE_MISSING" });
  },
});
