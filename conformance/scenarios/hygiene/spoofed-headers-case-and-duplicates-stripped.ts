import { headerValues } from "../../../src/conformance/context.js";
import { scenario } from "../../../src/conformance/scenario.js";
import { forgedLines, newForgery, sfBinary } from "../../lib/forgery.js";

export default scenario({
  id: "spoofed-headers-case-and-duplicates-stripped",
  area: "hygiene",
  title: "Forged certificate and identity headers written in odd letter case and repeated over several header lines are all removed: the backend receives each field once, with the edge's value",
  origin: [
    "RFC 9110 §5.1: field names are case-insensitive; §5.3: repeated field lines are one field (a sanitizer must treat every spelling and every line)",
    "RFC 9440 §2.2: Client-Cert is a singleton field; §2.4: incoming copies MUST be removed or overwritten",
    "Envoy headers.rst (x-forwarded-client-cert): XFCC holds one element per hop — a forged element appended by the client must not survive (Envoy SANITIZE_SET)",
  ],
  requires: ["client", "token", "recorder"],
  async run(t) {
    const me = t.client("participant-a");
    const f = newForgery();
    const pemUrl = `-----BEGIN%20CERTIFICATE-----%0A${encodeURIComponent(f.b64)}%0A-----END%20CERTIFICATE-----%0A`;
    const forged: Record<string, string[]> = {
      "cLiEnT-cErT": [`:${f.b64}:`, `:${f.b64}:`],
      "CLIENT-CERT-CHAIN": [`:${f.b64}:`, `:${f.b64}:`],
      "x-FORWARDED-client-CERT": [`Hash=${f.text}`, `By=spiffe://forged;Hash=${f.text}`, `Subject="CN=${f.text}"`],
      "X-Ssl-Client-Cert": [pemUrl, pemUrl],
      "SSL-CLIENT-CERT": [pemUrl, pemUrl],
      "x-AMZN-mtls-CLIENTCERT": [pemUrl, pemUrl],
      "X-OFB-ORGANISATION-ID": [f.text, f.text],
      "x-Ofb-X5T-S256": [f.text, f.text],
      "X-Ofb-Roles": [`DADOS,${f.text}`, "PAGTO"],
    };
    const res = await t.send({ as: "participant-a", token: await t.boundToken("participant-a"), headers: forged });
    t.expectStatus(res, 200);
    const got = await t.forwarded(res);
    t.check(forgedLines(got, f).length === 0, "the backend received none of the forged values", forgedLines(got, f));
    const repeated = Object.keys(forged).filter((name) => headerValues(got, name).length > 1);
    t.check(repeated.length === 0, "the backend received each of these fields at most once, whatever the spelling", repeated);
    t.check(!headerValues(got, "x-ofb-roles").includes("PAGTO"), "the forged second x-ofb-roles line (PAGTO) is not passed on", headerValues(got, "x-ofb-roles"));
    const clientCert = headerValues(got, "client-cert");
    if (clientCert.length === 0 && t.mode === "target") {
      t.note("the deployment does not forward RFC 9440 Client-Cert: only the stripping was checked");
      return;
    }
    t.check(clientCert.length === 1 && clientCert[0] === sfBinary(me.leaf), "the backend's single Client-Cert is the certificate presented in the handshake", clientCert.map((v) => v.slice(0, 80)));
    if (t.mode === "local") {
      t.check(JSON.stringify(headerValues(got, "x-ofb-organisation-id")) === JSON.stringify([me.organisationId]), "the backend's single x-ofb-organisation-id is the certificate's", headerValues(got, "x-ofb-organisation-id"));
      t.check(JSON.stringify(headerValues(got, "x-ofb-x5t-s256")) === JSON.stringify([me.thumbprint]), "the backend's single x-ofb-x5t-s256 is the certificate's thumbprint", headerValues(got, "x-ofb-x5t-s256"));
    }
  },
});
