import { scenario } from "../../../src/conformance/scenario.js";
import { expectEachSuiteRefused } from "../../lib/tls.js";

const SUITES = ["DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384"] as const;

export default scenario({
  id: "tls12-dhe-suites-refused",
  area: "tls",
  title: "A TLS 1.2 client offering only a DHE-RSA AES-GCM suite (each tried alone) gets no ServerHello, as the edge's default (DHE off) requires",
  origin: [
    "OIDF conformance suite: CheckForBCP195InsecureFAPICiphers (WARNING) — offering only TLS_DHE_RSA_WITH_AES_{128,256}_GCM, the handshake should fail",
    "docs/architecture.md, decision D2: DHE-RSA GCM only when configured (default off)",
  ],
  requires: [],
  run: (t) => expectEachSuiteRefused(t, SUITES),
});
