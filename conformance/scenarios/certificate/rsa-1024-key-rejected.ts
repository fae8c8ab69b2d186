import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "rsa-1024-key-rejected",
  area: "certificate",
  title: "A client certificate with a 1024-bit RSA key is rejected (401 CERT_KEY_TOO_WEAK) and nothing is forwarded",
  origin: [
    "OFB certificate standard 2.1 and ID2: ICP-Brasil type A, RSA 2048",
    "x509-limbo webpki::forbidden-weak-rsa-in-leaf: RSA-1024 end entity → FAILURE",
    "docs/architecture.md §Chain policy: RSA ≥ 2048",
  ],
  requires: ["test-pki", "token"],
  async run(t) {
    // The client must not police its own key (SECLEVEL=0 lets it present one): the edge must.
    const res = await t.send({ as: "rsa-1024", token: await t.boundToken("participant-a"), tls: { ciphers: "DEFAULT@SECLEVEL=0" } });
    await t.expectRejected(res, { status: 401, code: "CERT_KEY_TOO_WEAK", orHandshakeRefused: true });
  },
});
