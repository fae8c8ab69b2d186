import { scenario } from "../../../src/conformance/scenario.js";

const SUITES = ["ECDHE-RSA-CHACHA20-POLY1305", "DHE-RSA-CHACHA20-POLY1305"] as const;

export default scenario({
  id: "tls12-chacha20-refused",
  area: "tls",
  title: "A TLS 1.2 client offering only a CHACHA20-POLY1305 suite (each tried alone) gets no ServerHello",
  origin: [
    "FAPI 1 Part 2 §8.5: the TLS 1.2 list holds AES-GCM suites only; CHACHA20 is accepted by FAPI 2 (BCP 195), not FAPI 1 (conformance-sources §1.4)",
    "OIDF conformance suite: DisallowInsecureCipher (condition/common/AbstractCheckInsecureCiphers) offers every suite except the four FAPI ones",
    "DESIGN D2: TLS 1.2 limited to the two ECDHE-RSA AES-GCM suites (OFB/FAPI 1 intersection)",
  ],
  requires: [],
  async run(t) {
    // A listener that requires a client certificate also refuses a certificate-less handshake with an allowed suite:
    // present one when we have it, otherwise make sure a refusal can only be the suite's.
    const as = t.has("client") ? "participant-a" : null;
    if (as === null && !(await t.handshake({ minVersion: "TLSv1.2", maxVersion: "TLSv1.2", ciphers: "ECDHE-RSA-AES128-GCM-SHA256" })).ok) {
      t.skip("the listener refuses TLS 1.2 handshakes without a client certificate, so a suite's refusal cannot be observed (give --client-cert)");
    }
    for (const suite of SUITES) {
      const h = await t.handshake({ as, minVersion: "TLSv1.2", maxVersion: "TLSv1.2", ciphers: suite });
      t.check(!h.ok && (h.alert === "handshake failure" || h.error === "ECONNRESET"), `${suite} offered alone is refused (handshake_failure alert or reset)`, h.ok ? `accepted: ${h.protocol} ${h.cipher}` : `${h.error} (alert: ${h.alert})`);
    }
  },
});
