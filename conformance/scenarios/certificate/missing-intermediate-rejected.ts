import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "missing-intermediate-rejected",
  area: "certificate",
  title: "An accepted participant that sends its certificate without the intermediate CA is rejected (401 CERT_CHAIN_INCOMPLETE) and nothing is forwarded",
  origin: [
    "OFB certificate standard 2.1: the client certificate \"precisa ser enviado com a cadeia intermediária\" (the client sends its intermediate chain)",
    "RFC 8446 §4.4.2 / RFC 5246 §7.4.6: the certificate list carries the sender's certificate followed by the certificates that certify it",
    "x509-limbo webpki::cryptographydotio-chain-missing-intermediate: leaf without its intermediate → FAILURE",
    "docs/architecture.md §Chain policy and decision D7: full ICP-Brasil path validation",
  ],
  requires: ["client"],
  async run(t) {
    const res = await t.send({ as: "participant-a", leafOnly: true });
    await t.expectRejected(res, { status: 401, code: "CERT_CHAIN_INCOMPLETE", orHandshakeRefused: true });
  },
});
