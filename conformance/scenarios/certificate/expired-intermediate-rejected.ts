import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "expired-intermediate-rejected",
  area: "certificate",
  title: "A valid client certificate issued by an intermediate CA that has expired is rejected (401 CERT_EXPIRED) and nothing is forwarded",
  origin: [
    "RFC 5280 §6.1.3 (a)(2), applied to every certificate of the path: the validity period must include the current time",
    "x509-limbo rfc5280::validity::expired-intermediate",
    "docs/architecture.md §Chain policy: notBefore/notAfter are checked at every depth, on one validation clock",
  ],
  requires: ["test-pki", "token"],
  async run(t) {
    const res = await t.send({ as: "expired-intermediate", token: await t.boundToken("participant-a") });
    await t.expectRejected(res, { status: 401, code: "CERT_EXPIRED", orHandshakeRefused: true });
  },
});
