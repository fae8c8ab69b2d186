import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "key-usage-without-digital-signature-rejected",
  area: "certificate",
  title: "A client certificate whose key usage lacks digitalSignature is rejected (401 CERT_KEY_USAGE_INVALID) and nothing is forwarded",
  origin: [
    "RFC 5280 §4.2.1.3 and §4.2.1.12: key usage and EKU are processed together; for id-kp-clientAuth the consistent bits are digitalSignature and/or keyAgreement",
    "OFB certificate standard 2.1: keyUsage = critical, digitalSignature, keyEncipherment",
    "docs/architecture.md §Chain policy: keyUsage digitalSignature",
  ],
  requires: ["test-pki", "token"],
  async run(t) {
    const res = await t.send({ as: "no-digital-signature", token: await t.boundToken("participant-a") });
    await t.expectRejected(res, { status: 401, code: "CERT_KEY_USAGE_INVALID", orHandshakeRefused: true });
  },
});
