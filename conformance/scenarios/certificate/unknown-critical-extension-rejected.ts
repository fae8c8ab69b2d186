import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "unknown-critical-extension-rejected",
  area: "certificate",
  title: "A client certificate carrying an unrecognised critical extension is rejected (401 CERT_CHAIN_INVALID) and nothing is forwarded",
  origin: [
    "RFC 5280 §4.2: a certificate-using system MUST reject a certificate with a critical extension it does not recognize; §6.1.5 (f)",
    "x509-limbo rfc5280::unknown-critical-extension-ee",
  ],
  requires: ["test-pki", "token"],
  async run(t) {
    const res = await t.send({ as: "unknown-critical-extension", token: await t.boundToken("participant-a") });
    await t.expectRejected(res, { status: 401, code: "CERT_CHAIN_INVALID", orHandshakeRefused: true });
  },
});
