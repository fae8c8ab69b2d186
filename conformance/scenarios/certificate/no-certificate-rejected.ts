import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "no-certificate-rejected",
  area: "certificate",
  title: "A request to a mutual-TLS API without a client certificate is refused (401 CERT_REQUIRED, or the TLS handshake fails) and nothing is forwarded",
  origin: [
    "RFC 8705 §3: the protected resource MUST obtain the client certificate from its TLS layer and verify it matches the token's",
    "3scale APIcast t/apicast-policy-fapi.t: no client certificate → 401; panva/node-oidc-provider test/certificate_bound_access_tokens: no certificate → 401",
    "docs/architecture.md, decision D3: no client certificate on an mTLS route — reject in the TLS handshake, or answer HTTP 401 and never forward",
    "OFB certificate standard 2.1 §8.4: mTLS is required on /accounts/* and the other resource endpoints",
  ],
  requires: [],
  async run(t) {
    const res = await t.send({ as: null });
    await t.expectRejected(res, { status: 401, code: "CERT_REQUIRED", orHandshakeRefused: true });
  },
});
