import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "sha1-signature-rejected",
  area: "certificate",
  title: "A client certificate signed with SHA-1 is rejected (401 CERT_SIGNATURE_WEAK) and nothing is forwarded",
  origin: [
    "OFB certificate standard 2.1 and ID2: ICP-Brasil type A, RSA 2048 with SHA-256",
    "RFC 5280 §6.1.3 (a)(1): the signature is verified with the issuer's key and algorithm — a path validator restricted to acceptable algorithms (C2SP x509-limbo testcase field signature_algorithms)",
    "docs/architecture.md §Chain policy: no SHA-1",
  ],
  requires: ["test-pki", "token"],
  async run(t) {
    // The client must not police its own chain (SECLEVEL=0 lets it send a SHA-1 leaf): the edge must.
    const res = await t.send({ as: "sha1", token: await t.boundToken("participant-a"), tls: { ciphers: "DEFAULT@SECLEVEL=0" } });
    await t.expectRejected(res, { status: 401, code: "CERT_SIGNATURE_WEAK", orHandshakeRefused: true });
  },
});
