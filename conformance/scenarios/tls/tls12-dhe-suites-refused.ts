import { scenario } from "../../../src/conformance/scenario.js";

const SUITES = ["DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384"] as const;

export default scenario({
  id: "tls12-dhe-suites-refused",
  area: "tls",
  title: "A TLS 1.2 client offering only a DHE-RSA AES-GCM suite (each tried alone) gets no ServerHello, as the edge's default (DHE off) requires",
  origin: [
    "OIDF conformance suite: CheckForBCP195InsecureFAPICiphers (WARNING) — offering only TLS_DHE_RSA_WITH_AES_{128,256}_GCM, the handshake should fail",
    "DESIGN D2: DHE-RSA GCM only when configured (default off); ofb-facts §12 D2",
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
