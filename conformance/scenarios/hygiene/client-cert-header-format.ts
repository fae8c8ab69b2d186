import { X509Certificate } from "node:crypto";
import { headerValues } from "../../../src/conformance/context.js";
import { scenario } from "../../../src/conformance/scenario.js";

/** RFC 8941 §3.3.5 Byte Sequence: `:` base64 (no line breaks, spaces or other characters) `:`. */
const SF_BINARY = /^:[A-Za-z0-9+/]+={0,2}:$/;

/** The certificates of a PEM bundle, in order, as DER base64. */
function pemCertificates(pem: Buffer): string[] {
  return (pem.toString("utf8").match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((p) => new X509Certificate(p).raw.toString("base64"));
}

export default scenario({
  id: "client-cert-header-format",
  area: "hygiene",
  title: "The backend receives exactly one Client-Cert holding the presented leaf certificate as an RFC 9440 byte sequence, and Client-Cert-Chain, when sent, lists the intermediates the client sent and never the leaf",
  origin: [
    "RFC 9440 §2.1: each certificate is an RFC 8941 Byte Sequence of its DER, base64 without line breaks, spaces or other characters",
    "RFC 9440 §2.2: Client-Cert is the end-entity certificate, a singleton field",
    "RFC 9440 §2.3: Client-Cert-Chain, in TLS order, does not include the end-entity certificate and never appears without Client-Cert",
  ],
  requires: ["client", "token", "recorder"],
  async run(t) {
    const me = t.client("participant-a");
    const [leaf, ...intermediates] = pemCertificates(me.chain);
    t.check(leaf === new X509Certificate(me.leaf).raw.toString("base64"), "the presented chain starts with participant-a's leaf");
    const res = await t.send({ as: "participant-a", token: await t.boundToken("participant-a") });
    t.expectStatus(res, 200);
    const got = await t.forwarded(res);
    const clientCert = headerValues(got, "client-cert");
    if (clientCert.length === 0 && t.mode === "target") t.skipScenario("the deployment does not forward RFC 9440 Client-Cert (another header profile)");
    t.check(clientCert.length === 1, "the backend received exactly one Client-Cert line", clientCert);
    t.check(SF_BINARY.test(clientCert[0]!), "Client-Cert is an RFC 8941 byte sequence", clientCert[0]!.slice(0, 80));
    t.check(clientCert[0] === `:${leaf}:`, "Client-Cert is ':' + base64 of the presented leaf's DER + ':'", clientCert[0]!.slice(0, 80));

    const chainLines = headerValues(got, "client-cert-chain");
    if (chainLines.length === 0) {
      t.check(t.mode === "target" || intermediates.length === 0, "Client-Cert-Chain is sent when the client sent intermediates (the local rfc9440 profile forwards them)", intermediates.length);
      return;
    }
    const members = chainLines.join(",").split(",").map((m) => m.trim());
    for (const m of members) t.check(SF_BINARY.test(m), "every Client-Cert-Chain member is an RFC 8941 byte sequence", m.slice(0, 80));
    const ders = members.map((m) => m.slice(1, -1));
    t.check(!ders.includes(leaf!), "Client-Cert-Chain does not include the leaf (RFC 9440 §2.3)");
    t.check(JSON.stringify(ders) === JSON.stringify(intermediates), "Client-Cert-Chain lists the intermediates the client sent, in TLS order", `${ders.length} member(s), ${intermediates.length} intermediate(s) sent`);
  },
});
