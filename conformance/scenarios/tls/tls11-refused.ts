import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "tls11-refused",
  area: "tls",
  title: "A client offering only TLS 1.1 is refused with a protocol_version or handshake_failure alert and gets no ServerHello",
  origin: [
    "OIDF conformance suite: DisallowTLS11 (condition/common/AbstractDisallowTLSVersion) — handshake_failure/protocol_version alert or reset passes",
    "OFB Security Profile ID3 §Secure use of TLS; FAPI 1 Part 2 §8.5 (TLS 1.2 or later)",
  ],
  requires: [],
  async run(t) {
    // Node 20's OpenSSL offers TLS 1.1 only at security level 0: the client lowers its own level, so only the edge can refuse.
    const h = await t.handshake({ minVersion: "TLSv1.1", maxVersion: "TLSv1.1", ciphers: "DEFAULT@SECLEVEL=0" });
    t.check(!h.ok, "the TLS 1.1 handshake is refused", h.ok ? `${h.protocol} ${h.cipher}` : undefined);
    if (h.ok) return;
    t.check(h.alert === "protocol version" || h.alert === "handshake failure" || h.error === "ECONNRESET", "the refusal is a protocol_version or handshake_failure alert, or a reset", `${h.error} (alert: ${h.alert})`);
  },
});
