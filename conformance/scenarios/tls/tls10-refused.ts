import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "tls10-refused",
  area: "tls",
  title: "A client offering only TLS 1.0 gets no ServerHello",
  origin: [
    "OIDF conformance suite: DisallowTLS10 (condition/common/AbstractDisallowTLSVersion) — handshake_failure/protocol_version alert or reset passes",
    "OFB Security Profile ID3 §Secure use of TLS; FAPI 1 Part 2 §8.5",
  ],
  requires: [],
  async run(t) {
    const h = await t.handshake({ minVersion: "TLSv1", maxVersion: "TLSv1", ciphers: "DEFAULT@SECLEVEL=0" });
    t.check(!h.ok, "the TLS 1.0 handshake is refused", h.ok ? `${h.protocol} ${h.cipher}` : undefined);
  },
});
