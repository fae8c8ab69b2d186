import { createSecureContext } from "node:tls";
import { scenario } from "../../../src/conformance/scenario.js";

/** Outside FAPI's list for every reason at once: no encryption, no authentication, broken or non-AES ciphers, CCM. */
const SUITES = [
  "NULL-SHA256",
  "ECDHE-RSA-NULL-SHA",
  "ADH-AES128-GCM-SHA256",
  "AECDH-AES128-SHA",
  "DES-CBC3-SHA",
  "ECDHE-RSA-DES-CBC3-SHA",
  "RC4-SHA",
  "EXP-RC4-MD5",
  "SEED-SHA",
  "IDEA-CBC-SHA",
  "CAMELLIA128-SHA",
  "ARIA128-GCM-SHA256",
  "ECDHE-ARIA128-GCM-SHA256",
  "AES128-CCM",
  "DHE-RSA-AES128-CCM8",
] as const;

/** Whether this Node's OpenSSL can put `suite` in a ClientHello at all (3DES, RC4, SEED, IDEA and export suites are gone from OpenSSL 3's default build). */
function offerable(suite: string): boolean {
  try {
    createSecureContext({ ciphers: `${suite}@SECLEVEL=0` });
    return true;
  } catch {
    return false;
  }
}

export default scenario({
  id: "tls12-legacy-suites-refused",
  area: "tls",
  title: "A TLS 1.2 client offering only a legacy suite (NULL, anonymous, 3DES/RC4 where the client can still offer them, Camellia, ARIA, CCM — each tried alone) gets no ServerHello",
  origin: [
    "FAPI 1 Part 2 §8.5: below TLS 1.3 only DHE_RSA/ECDHE_RSA with AES_128_GCM_SHA256/AES_256_GCM_SHA384 (ofb-facts §6)",
    "OIDF conformance suite: DisallowInsecureCipher (condition/common/AbstractCheckInsecureCiphers) — handshake_failure alert or reset passes, any suite selected fails",
  ],
  requires: [],
  async run(t) {
    // A listener that requires a client certificate also refuses a certificate-less handshake with an allowed suite:
    // present one when we have it, otherwise make sure a refusal can only be the suite's.
    const as = t.has("client") ? "participant-a" : null;
    if (as === null && !(await t.handshake({ minVersion: "TLSv1.2", maxVersion: "TLSv1.2", ciphers: "ECDHE-RSA-AES128-GCM-SHA256" })).ok) {
      t.skip("the listener refuses TLS 1.2 handshakes without a client certificate, so a suite's refusal cannot be observed (give --client-cert)");
    }
    const missing = SUITES.filter((s) => !offerable(s));
    if (missing.length > 0) t.note(`this Node's OpenSSL cannot offer ${missing.join(", ")}: not tried`);
    for (const suite of SUITES.filter(offerable)) {
      // Security level 0: the client itself must not be what refuses the weak suite.
      const h = await t.handshake({ as, minVersion: "TLSv1.2", maxVersion: "TLSv1.2", ciphers: `${suite}@SECLEVEL=0` });
      t.check(!h.ok && (h.alert === "handshake failure" || h.error === "ECONNRESET"), `${suite} offered alone is refused (handshake_failure alert or reset)`, h.ok ? `accepted: ${h.protocol} ${h.cipher}` : `${h.error} (alert: ${h.alert})`);
    }
  },
});
