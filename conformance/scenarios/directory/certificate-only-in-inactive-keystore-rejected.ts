import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "certificate-only-in-inactive-keystore-rejected",
  area: "directory",
  title: "An Active participant presenting a certificate found only in its inactive transport keys is refused (403 DIRECTORY_KEY_INACTIVE) and nothing is forwarded",
  origin: [
    "OFB DCR v2.1.0 §9.4: <org_id>/<software_statement_id>/inactive/transport.jwks holds inactive keys; a key revoked or inactive in the Directory moves there",
    "docs/architecture.md, decision D6: the thumbprint must be an active key of transport.jwks, not only in inactive/",
  ],
  requires: ["test-pki", "token"],
  async run(t) {
    const res = await t.send({ as: "participant-inactive-key", token: await t.boundToken("participant-a") });
    await t.expectRejected(res, { status: 403, code: "DIRECTORY_KEY_INACTIVE" });
  },
});
