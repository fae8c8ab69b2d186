import { getCiphers } from "node:tls";
import { scenario } from "../../../src/conformance/scenario.js";

/** The FAPI 1 TLS 1.2 suites the OIDF probe leaves out (FAPI 1 Part 2 §8.5). */
const FAPI = new Set(["ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384", "DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384"]);

export default scenario({
  id: "insecure-cipher-probe-refused",
  area: "tls",
  title: "A TLS 1.2 client offering every suite it knows except the four FAPI ones is refused (handshake_failure alert or reset)",
  origin: [
    "OIDF conformance suite: DisallowInsecureCipher (condition/common/AbstractCheckInsecureCiphers) — offers every suite except the 4 FAPI ones; handshake_failure alert or reset passes, any suite selected fails",
    "FAPI 1 Part 2 §8.5",
  ],
  requires: [],
  async run(t) {
    // A listener that requires a client certificate also refuses a certificate-less handshake with an allowed suite:
    // present one when we have it, otherwise make sure a refusal can only be the suites'.
    const as = t.has("client") ? "participant-a" : null;
    if (as === null && !(await t.handshake({ minVersion: "TLSv1.2", maxVersion: "TLSv1.2", ciphers: "ECDHE-RSA-AES128-GCM-SHA256" })).ok) {
      t.skipScenario("the listener refuses TLS 1.2 handshakes without a client certificate, so a suite's refusal cannot be observed (give --client-cert)");
    }
    // Every TLS 1.2 suite this Node's OpenSSL knows (TLS 1.3 names start with tls_); PSK and SRP suites, which need
    // credentials the probe does not have, are dropped by OpenSSL from the ClientHello.
    const offered = getCiphers()
      .filter((c) => !c.startsWith("tls_"))
      .map((c) => c.toUpperCase())
      .filter((c) => !FAPI.has(c));
    t.note(`${offered.length} TLS 1.2 suites offered at once (Node's OpenSSL list, security level 0)`);
    const h = await t.handshake({ as, minVersion: "TLSv1.2", maxVersion: "TLSv1.2", ciphers: `${offered.join(":")}@SECLEVEL=0` });
    t.check(!h.ok && (h.alert === "handshake failure" || h.error === "ECONNRESET"), "the handshake is refused (handshake_failure alert or reset)", h.ok ? `accepted: ${h.protocol} ${h.cipher}` : `${h.error} (alert: ${h.alert})`);
  },
});
