import { scenario } from "../../../src/conformance/scenario.js";
import { expectEachSuiteRefused } from "../../lib/tls.js";

const SUITES = ["AES128-GCM-SHA256", "AES256-GCM-SHA384"] as const;

export default scenario({
  id: "tls12-static-rsa-suites-refused",
  area: "tls",
  title: "A TLS 1.2 client offering only a static-RSA AES-GCM suite (no forward secrecy, each tried alone) gets no ServerHello",
  origin: [
    "FAPI 1 Part 2 §8.5: below TLS 1.3 only DHE_RSA/ECDHE_RSA key exchange",
    "OIDF conformance suite: DisallowInsecureCipher (condition/common/AbstractCheckInsecureCiphers) — handshake_failure alert or reset passes",
    "docs/architecture.md, decision D2: TLS 1.2 limited to the two ECDHE-RSA AES-GCM suites",
  ],
  requires: [],
  run: (t) => expectEachSuiteRefused(t, SUITES),
});
