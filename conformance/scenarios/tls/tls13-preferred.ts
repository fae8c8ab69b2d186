import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "tls13-preferred",
  area: "tls",
  title: "A client offering both TLS 1.2 and TLS 1.3 is served with TLS 1.3",
  origin: [
    "OIDF conformance suite: EnsureTLS13PreferredOverTLS12 (FAILURE once TLS 1.3 is known to be supported)",
    "docs/architecture.md, decision D2: TLS 1.3 on and preferred",
  ],
  requires: [],
  async run(t) {
    // TLS 1.2 suites first in the client's list: only the version negotiation decides.
    const as = t.has("client") ? "participant-a" : null;
    const h = await t.handshake({ as, minVersion: "TLSv1.2", maxVersion: "TLSv1.3", ciphers: "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256" });
    if (!h.ok) return t.fail("the handshake completes", h.error);
    t.check(true, "the handshake completes");
    t.equal(h.protocol, "TLSv1.3", "the negotiated protocol");
  },
});
