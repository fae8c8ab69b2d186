import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "revoked-certificate-rejected",
  area: "certificate",
  title: "A client certificate listed on its issuing CA's revocation list (CRL) is rejected (401 CERT_REVOKED) and nothing is forwarded",
  origin: [
    "RFC 5280 §6.1.3 (a)(3): at the current time the certificate is not revoked",
    "x509-limbo crl::revoked-certificate-with-crl",
    "docs/architecture.md, decision D4: revocation of ICP-Brasil chains by CRL (CA certificates carry CRL distribution points only, so the CRL is the fallback OCSP cannot replace)",
  ],
  requires: ["test-pki", "revocation", "token"],
  async run(t) {
    const res = await t.send({ as: "revoked", token: await t.boundToken("participant-a") });
    await t.expectRejected(res, { status: 401, code: "CERT_REVOKED", orHandshakeRefused: true });
  },
});
