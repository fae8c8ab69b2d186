import { headerValues } from "../../../src/conformance/context.js";
import { scenario } from "../../../src/conformance/scenario.js";
import { forgedCertificateHeaders, forgedLines, newForgery } from "../../lib/forgery.js";

export default scenario({
  id: "spoofed-certificate-headers-stripped-without-mtls",
  area: "hygiene",
  title: "On the public route without a client certificate, forged client-certificate headers of every well-known format never reach the backend, and no Client-Cert or Client-Cert-Chain is sent at all",
  origin: [
    "RFC 9440 §2.4: requests on connections without client-certificate authentication MUST be sanitized of Client-Cert and Client-Cert-Chain",
    "Envoy test/integration/xfcc_integration_test.cc TlsEnforceSanitize: FORWARD_ONLY on a non-mTLS connection still strips XFCC",
    "HAProxy configuration.txt §7.3.4 (ssl_c_used): a conditional set-header leaves spoofed headers on non-mTLS requests (openshift/router PR #805, CVE-2026-46579; haproxy-boshrelease #86)",
  ],
  requires: ["recorder"],
  async run(t) {
    const forgery = newForgery();
    const forged = forgedCertificateHeaders(forgery);
    const res = await t.send({ as: null, path: t.paths.public, headers: forged });
    t.expectStatus(res, 200);
    const got = await t.forwarded(res);
    t.check(forgedLines(got, forgery).length === 0, "the backend received none of the forged values", forgedLines(got, forgery));
    for (const name of ["client-cert", "client-cert-chain"]) t.check(headerValues(got, name).length === 0, `the backend received no ${name}`, headerValues(got, name));
    if (t.mode === "local") {
      const present = Object.keys(forged).filter((name) => headerValues(got, name).length > 0);
      t.check(present.length === 0, "the backend received none of the client-certificate fields (the local profiles set none without a certificate)", present);
    } else {
      const repeated = Object.keys(forged).filter((name) => headerValues(got, name).length > 1);
      t.check(repeated.length === 0, "the backend received each of these fields at most once", repeated);
    }
  },
});
