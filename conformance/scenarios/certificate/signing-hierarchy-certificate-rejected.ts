import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "signing-hierarchy-certificate-rejected",
  area: "certificate",
  title: "An e-CNPJ A1 of the v5 (signing) hierarchy, which carries clientAuth, is rejected as a transport certificate (401 CERT_UNTRUSTED, or CERT_HIERARCHY_NOT_TRANSPORT when its root is trusted) and nothing is forwarded",
  origin: [
    "OFB certificate standard 2.1: the transport (client) certificate \"deve ser emitido através de cadeia V10\"; signing certificates use the V5 chain",
    "ICP-Brasil: e-CNPJ A1 certificates under root v5 carry the clientAuth EKU and pass OpenSSL's SSL-client purpose, so a store holding every ICP-Brasil root accepts them unless the transport hierarchy is pinned",
    "RFC 8705 §7.4: accept only a limited set of trust anchors",
  ],
  requires: ["test-pki"],
  async run(t) {
    const res = await t.send({ as: "e-cnpj" });
    await t.expectRejected(res, { status: 401, code: ["CERT_UNTRUSTED", "CERT_HIERARCHY_NOT_TRANSPORT"], orHandshakeRefused: true });
  },
});
