import { scenario } from "../../../src/conformance/scenario.js";

const TLS13_SUITES = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"];

export default scenario({
  id: "tls13-accepted",
  area: "tls",
  title: "A client offering only TLS 1.3 completes the handshake with TLS 1.3 and an AEAD suite",
  origin: [
    "OIDF conformance suite: EnsureTLS13OrLater (WARNING) — TLS 1.3 offered",
    "FAPI 1 Part 2 §8.5: no restriction on TLS 1.3 suites; docs/architecture.md, decision D2: TLS 1.3 on and preferred",
  ],
  requires: [],
  async run(t) {
    const as = t.has("client") ? "participant-a" : null;
    const h = await t.handshake({ as, minVersion: "TLSv1.3", maxVersion: "TLSv1.3" });
    if (!h.ok) return t.fail("a TLS 1.3-only handshake completes", h.error);
    t.check(true, "a TLS 1.3-only handshake completes");
    t.equal(h.protocol, "TLSv1.3", "the negotiated protocol");
    t.check(TLS13_SUITES.includes(h.cipher), `the negotiated suite is one of ${TLS13_SUITES.join(", ")}`, h.cipher);
  },
});
