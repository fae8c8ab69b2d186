import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "no-eku-rejected",
  area: "certificate",
  title: "A client certificate without an extended key usage extension is rejected (401 CERT_EKU_CLIENT_AUTH_MISSING) and nothing is forwarded",
  origin: [
    "OFB certificate standard 2.1: extendedKeyUsage = clientAuth is required — OFB policy, stricter than RFC 5280 §4.2.1.12",
    "x509-limbo webpki::eku::ee-without-eku (policy FAILURE; rfc5280::eku::ee-without-eku is a SUCCESS case, hence a separate policy check)",
    "docs/architecture.md §Chain policy: EKU clientAuth",
  ],
  requires: ["test-pki", "token"],
  async run(t) {
    const res = await t.send({ as: "no-eku", token: await t.boundToken("participant-a") });
    await t.expectRejected(res, { status: 401, code: "CERT_EKU_CLIENT_AUTH_MISSING", orHandshakeRefused: true });
  },
});
