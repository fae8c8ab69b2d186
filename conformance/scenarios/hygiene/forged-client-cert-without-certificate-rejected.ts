import { scenario } from "../../../src/conformance/scenario.js";
import { sfBinary } from "../../lib/forgery.js";

export default scenario({
  id: "forged-client-cert-without-certificate-rejected",
  area: "hygiene",
  title: "A caller without a client certificate who sends a participant's public certificate in Client-Cert (and other certificate headers) together with that participant's stolen token is refused (401 CERT_REQUIRED) and nothing is forwarded",
  origin: [
    "RFC 8705 §3: the protected resource MUST obtain the client certificate from its TLS implementation layer",
    "RFC 9440 §2.4 and §4: incoming Client-Cert is never trusted from a client; requests without client-certificate authentication are sanitized",
    "panva/node-oidc-provider test/certificate_bound_access_tokens and 3scale APIcast t/apicast-policy-fapi.t: no client certificate → 401",
  ],
  requires: ["client", "token"],
  async run(t) {
    const victim = t.client("participant-a");
    const leafPem = victim.leaf.toString("utf8");
    const res = await t.send({
      as: null,
      token: await t.boundToken("participant-a"),
      headers: {
        "client-cert": sfBinary(victim.leaf),
        "x-forwarded-client-cert": `Hash=0;Cert="${encodeURIComponent(leafPem)}"`,
        "ssl-client-cert": encodeURIComponent(leafPem),
        "x-ssl-client-verify": "SUCCESS",
        "x-ofb-x5t-s256": victim.thumbprint,
      },
    });
    await t.expectRejected(res, { status: 401, code: "CERT_REQUIRED", orHandshakeRefused: true });
  },
});
