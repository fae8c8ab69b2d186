import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "server-auth-only-eku-rejected",
  area: "certificate",
  title: "A client certificate whose extended key usage allows only TLS server authentication is rejected (401 CERT_INVALID_PURPOSE) and nothing is forwarded",
  origin: [
    "RFC 5280 §4.2.1.12: the certificate MUST only be used for a purpose its extendedKeyUsage lists; id-kp-clientAuth is TLS client authentication",
    "x509-limbo rfc5280::eku::ee-wrong-eku",
    "OFB certificate standard 2.1: extendedKeyUsage = clientAuth",
    "docs/architecture.md §Chain policy: EKU clientAuth",
  ],
  requires: ["test-pki", "token"],
  async run(t) {
    const res = await t.send({ as: "server-auth-only", token: await t.boundToken("participant-a") });
    await t.expectRejected(res, { status: 401, code: "CERT_INVALID_PURPOSE", orHandshakeRefused: true });
  },
});
