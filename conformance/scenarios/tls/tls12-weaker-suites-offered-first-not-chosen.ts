import { scenario } from "../../../src/conformance/scenario.js";

/** The client's preference order: CBC and static-RSA suites before the one FAPI suite it offers. */
const OFFER = ["AES128-SHA", "ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES128-SHA256", "AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384"] as const;

export default scenario({
  id: "tls12-weaker-suites-offered-first-not-chosen",
  area: "tls",
  title: "A TLS 1.2 client that prefers CBC and static-RSA suites but also offers ECDHE-RSA-AES256-GCM-SHA384 is served with the AES-GCM suite",
  origin: [
    "FAPI 1 Part 2 §8.5: below TLS 1.3 only DHE_RSA/ECDHE_RSA with AES_128_GCM_SHA256/AES_256_GCM_SHA384",
    "OFB Security Profile ID3 §Secure use of TLS: shall support TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
  ],
  requires: [],
  async run(t) {
    // A listener that requires a client certificate refuses a certificate-less TLS 1.2 handshake after the ServerHello.
    const as = t.has("client") ? "participant-a" : null;
    const h = await t.handshake({ as, minVersion: "TLSv1.2", maxVersion: "TLSv1.2", ciphers: OFFER.join(":") });
    if (!h.ok) return t.fail("the handshake completes", `${h.error}${as ? "" : " (no client certificate presented: give --client-cert if the listener requires one)"}`);
    t.check(true, "the handshake completes");
    t.equal(h.cipher, "ECDHE-RSA-AES256-GCM-SHA384", "the negotiated cipher suite (the only allowed one offered, although last)");
  },
});
