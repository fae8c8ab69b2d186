import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "other-ca-certificate-rejected",
  area: "certificate",
  title: "A client certificate issued by a CA outside the trusted hierarchy is rejected (401 CERT_UNTRUSTED) and nothing is forwarded",
  origin: [
    "RFC 5280 §6.1: the path must end in a trust anchor; a chain the client sends with its own AC does not make that AC trusted",
    "x509-limbo rfc5280::chain-untrusted-root: intermediates supplied, root not in the trusted set → no chain",
    "RFC 8705 §7.4: accept only a limited set of trust anchors",
    "OFB certificate standard 2.1: only the listed ICP-Brasil ACs (CertiSign, Serasa, Serpro, Soluti, Valid) may issue BRCAC",
    "docs/architecture.md §Chain policy and decision D7: full ICP-Brasil path validation to the configured trust anchors",
  ],
  requires: ["test-pki", "token"],
  async run(t) {
    const res = await t.send({ as: "other-ca", token: await t.boundToken("participant-a") });
    await t.expectRejected(res, { status: 401, code: "CERT_UNTRUSTED", orHandshakeRefused: true });
  },
});
