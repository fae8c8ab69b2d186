import { scenario } from "../../../src/conformance/scenario.js";
import { expectEachSuiteRefused } from "../../lib/tls.js";

const SUITES = ["ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-SHA", "ECDHE-RSA-AES128-SHA256", "ECDHE-RSA-AES256-SHA384", "DHE-RSA-AES128-SHA", "DHE-RSA-AES256-SHA256", "AES128-SHA", "AES128-SHA256", "AES256-SHA256"] as const;

export default scenario({
  id: "tls12-cbc-suites-refused",
  area: "tls",
  title: "A TLS 1.2 client offering only a CBC-mode suite (each tried alone) gets no ServerHello",
  origin: [
    "FAPI 1 Part 2 §8.5: below TLS 1.3 only DHE_RSA/ECDHE_RSA with AES_128_GCM_SHA256/AES_256_GCM_SHA384",
    "OIDF conformance suite: DisallowInsecureCipher (condition/common/AbstractCheckInsecureCiphers) — handshake_failure alert or reset passes, any suite selected fails",
    "docs/architecture.md, decision D2: TLS 1.2 limited to the two ECDHE-RSA AES-GCM suites",
  ],
  requires: [],
  run: (t) => expectEachSuiteRefused(t, SUITES),
});
