import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "denied-certificate-rejected",
  area: "certificate",
  title: "A valid client certificate on the operator's deny list is rejected (401 CERT_DENIED) and nothing is forwarded",
  origin: [
    "OFB DCR v2.1.0 §9.4: the Directory re-scans certificates hourly before a revoked key moves to inactive/ — our reading: after a key compromise the operator blocks at once",
    "ofb-edge README §denyList: a denied certificate gets 401 CERT_DENIED on every request, including connections already open (answered in HTTP on every listener mode)",
    "docs/architecture.md §Deny list: deny list by thumbprint",
  ],
  requires: ["deny-list", "token"],
  async run(t) {
    const res = await t.send({ as: "denied", token: await t.boundToken("participant-a") });
    await t.expectRejected(res, { status: 401, code: "CERT_DENIED" });
  },
});
