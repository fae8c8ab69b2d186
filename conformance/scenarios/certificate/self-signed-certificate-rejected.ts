import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "self-signed-certificate-rejected",
  area: "certificate",
  title: "A self-signed client certificate with an OFB subject is rejected (401 CERT_SELF_SIGNED) and nothing is forwarded",
  origin: [
    "RFC 5280 §6.1: a certification path begins at a trust anchor; a self-signed end entity that is not one has no valid path",
    "x509-limbo rfc5280::chain-untrusted-root (category: untrusted root)",
    "RFC 8705 §7.4: accept only a limited set of trust anchors",
    "OFB certificate standard 2.1: the BRCAC is issued under the ICP-Brasil V10 chain by an allowed AC",
    "docs/architecture.md §Chain policy and decision D7: full ICP-Brasil path validation to the configured trust anchors",
  ],
  requires: ["test-pki", "token"],
  async run(t) {
    const res = await t.send({ as: "self-signed", token: await t.boundToken("participant-a") });
    await t.expectRejected(res, { status: 401, code: "CERT_SELF_SIGNED", orHandshakeRefused: true });
  },
});
