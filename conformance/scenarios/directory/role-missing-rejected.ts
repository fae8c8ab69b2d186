import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "role-missing-rejected",
  area: "directory",
  title: "An Active organisation with no regulatory role claims is refused on an accounts API (403 DIRECTORY_ROLE_MISSING) and nothing is forwarded",
  origin: [
    "OFB DCR v2.1.0 §7.2: active roles must be validated; our reading of its role scopes: data-sharing families such as accounts require an Active DADOS claim",
    "2021 production /participants data: an empty OrgDomainRoleClaims array is normal Directory data (4 of 59 organisations)",
    "docs/architecture.md §Directory",
  ],
  requires: ["test-pki", "token"],
  async run(t) {
    const res = await t.send({ as: "participant-no-roles", path: t.paths.accounts, token: await t.boundToken("participant-a") });
    await t.expectRejected(res, { status: 403, code: "DIRECTORY_ROLE_MISSING" });
  },
});
