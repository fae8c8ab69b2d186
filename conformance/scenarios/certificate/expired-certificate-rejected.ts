import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "expired-certificate-rejected",
  area: "certificate",
  title: "An expired client certificate is rejected (401 CERT_EXPIRED) and nothing is forwarded",
  origin: ["RFC 5280 §6.1.3 (a)(2): validity period", "x509-limbo rfc5280::validity::expired-leaf", "docs/architecture.md §Chain policy"],
  requires: ["test-pki"],
  async run(t) {
    const res = await t.send({ as: "expired", token: await t.boundToken("participant-a") });
    await t.expectRejected(res, { status: 401, code: "CERT_EXPIRED", orHandshakeRefused: true });
  },
});
