import { scenario } from "../../../src/conformance/scenario.js";
import { expectEachSuiteRefused } from "../../lib/tls.js";

const SUITES = ["ECDHE-RSA-CHACHA20-POLY1305", "DHE-RSA-CHACHA20-POLY1305"] as const;

export default scenario({
  id: "tls12-chacha20-refused",
  area: "tls",
  title: "A TLS 1.2 client offering only a CHACHA20-POLY1305 suite (each tried alone) gets no ServerHello",
  origin: [
    "FAPI 1 Part 2 §8.5: the TLS 1.2 list holds AES-GCM suites only; CHACHA20 is accepted by FAPI 2 (BCP 195), not FAPI 1 (OIDF EnsureTLS12RequireBCP195Ciphers vs EnsureTLS12WithFAPICiphers)",
    "OIDF conformance suite: DisallowInsecureCipher (condition/common/AbstractCheckInsecureCiphers) offers every suite except the four FAPI ones",
    "docs/architecture.md, decision D2: TLS 1.2 limited to the two ECDHE-RSA AES-GCM suites (OFB/FAPI 1 intersection)",
  ],
  requires: [],
  run: (t) => expectEachSuiteRefused(t, SUITES),
});
