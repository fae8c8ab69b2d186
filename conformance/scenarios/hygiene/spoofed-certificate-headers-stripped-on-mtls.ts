import { headerValues } from "../../../src/conformance/context.js";
import { scenario } from "../../../src/conformance/scenario.js";
import { forgedCertificateHeaders, forgedLines, newForgery, sfBinary } from "../../lib/forgery.js";

export default scenario({
  id: "spoofed-certificate-headers-stripped-on-mtls",
  area: "hygiene",
  title: "On an mTLS request with a valid certificate, forged copies of every well-known client-certificate header (RFC 9440, Envoy, nginx, HAProxy, Traefik, AWS, Cloudflare, GCP, Kong, Azure, Akamai …) never reach the backend; only the edge's own fields for the real certificate do",
  origin: [
    "RFC 9440 §2.4: a TLS-terminating reverse proxy MUST remove or overwrite incoming Client-Cert / Client-Cert-Chain",
    "Envoy test/integration/xfcc_integration_test.cc: SANITIZE strips incoming XFCC, SANITIZE_SET replaces it with this client's element",
    "spoofing reports against other terminators (traefik/traefik#5061, envoyproxy/envoy#6038, istio/istio#50067, openshift/router PR #805 CVE-2026-46579) — docs/architecture.md §Header profiles: delete every profile's field names on every request",
  ],
  requires: ["client", "token", "recorder"],
  async run(t) {
    const forgery = newForgery();
    const forged = forgedCertificateHeaders(forgery);
    const res = await t.send({ as: "participant-a", token: await t.boundToken("participant-a"), headers: forged });
    t.expectStatus(res, 200);
    const got = await t.forwarded(res);
    t.check(forgedLines(got, forgery).length === 0, "the backend received none of the forged values", forgedLines(got, forgery));
    const repeated = Object.keys(forged).filter((name) => headerValues(got, name).length > 1);
    t.check(repeated.length === 0, "the backend received each of these fields at most once", repeated);
    const clientCert = headerValues(got, "client-cert");
    if (clientCert.length === 0 && t.mode === "target") t.note("the deployment does not forward RFC 9440 Client-Cert: only the stripping was checked");
    else t.check(clientCert.length === 1 && clientCert[0] === sfBinary(t.client("participant-a").leaf), "the backend's Client-Cert is the certificate presented in the handshake", clientCert.map((v) => v.slice(0, 80)));
  },
});
