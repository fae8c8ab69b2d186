import { createSecureContext } from "node:tls";
import { scenario } from "../../../src/conformance/scenario.js";
import { expectEachSuiteRefused } from "../../lib/tls.js";

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
    "FAPI 1 Part 2 §8.5: below TLS 1.3 only DHE_RSA/ECDHE_RSA with AES_128_GCM_SHA256/AES_256_GCM_SHA384",
    "OIDF conformance suite: DisallowInsecureCipher (condition/common/AbstractCheckInsecureCiphers) — handshake_failure alert or reset passes, any suite selected fails",
  ],
  requires: [],
  async run(t) {
    const missing = SUITES.filter((s) => !offerable(s));
    if (missing.length > 0) t.note(`this Node's OpenSSL cannot offer ${missing.join(", ")}: not tried`);
    await expectEachSuiteRefused(t, SUITES.filter(offerable), { seclevel0: true });
  },
});
