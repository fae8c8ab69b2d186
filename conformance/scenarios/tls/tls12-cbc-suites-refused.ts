import { scenario } from "../../../src/conformance/scenario.js";

const SUITES = ["ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-SHA", "ECDHE-RSA-AES128-SHA256", "ECDHE-RSA-AES256-SHA384", "DHE-RSA-AES128-SHA", "DHE-RSA-AES256-SHA256", "AES128-SHA", "AES128-SHA256", "AES256-SHA256"] as const;

export default scenario({
  id: "tls12-cbc-suites-refused",
  area: "tls",
  title: "A TLS 1.2 client offering only a CBC-mode suite (each tried alone) gets no ServerHello",
  origin: [
    "FAPI 1 Part 2 §8.5: below TLS 1.3 only DHE_RSA/ECDHE_RSA with AES_128_GCM_SHA256/AES_256_GCM_SHA384 (ofb-facts §6)",
    "OIDF conformance suite: DisallowInsecureCipher (condition/common/AbstractCheckInsecureCiphers) — handshake_failure alert or reset passes, any suite selected fails",
    "DESIGN D2: TLS 1.2 limited to the two ECDHE-RSA AES-GCM suites",
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
