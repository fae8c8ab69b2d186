import { scenario } from "../../../src/conformance/scenario.js";

const SUITE = "ECDHE-RSA-AES256-GCM-SHA384";

export default scenario({
  id: "tls12-ecdhe-rsa-aes256-gcm-accepted",
  area: "tls",
  title: "A TLS 1.2 client offering only TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 completes the handshake with exactly that suite",
  origin: [
    "OFB Security Profile ID3 §Secure use of TLS: endpoints used directly by clients shall support TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 (ofb-facts §6)",
    "FAPI 1 Part 2 §8.5: TLS 1.2 only with ECDHE_RSA/DHE_RSA and AES_128_GCM_SHA256/AES_256_GCM_SHA384",
  ],
  requires: [],
  async run(t) {
    // A listener that requires a client certificate refuses a certificate-less TLS 1.2 handshake after the ServerHello.
    const as = t.has("client") ? "participant-a" : null;
    const h = await t.handshake({ as, minVersion: "TLSv1.2", maxVersion: "TLSv1.2", ciphers: SUITE });
    if (!h.ok) return t.fail(`a TLS 1.2 handshake offering only ${SUITE} completes`, `${h.error}${as ? "" : " (no client certificate presented: give --client-cert if the listener requires one)"}`);
    t.check(true, `a TLS 1.2 handshake offering only ${SUITE} completes`);
    t.equal(h.protocol, "TLSv1.2", "the negotiated protocol");
    t.equal(h.cipher, SUITE, "the negotiated cipher suite");
  },
});
