import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "ca-bit-violation-rejected",
  area: "certificate",
  title: "A client certificate issued by a certificate that is not a CA (basicConstraints CA:FALSE) is rejected (401 CERT_CHAIN_INVALID) and nothing is forwarded",
  origin: [
    "RFC 5280 §4.2.1.9: without cA asserted the certified key MUST NOT verify certificate signatures; §6.1.4 (k)",
    "x509-limbo rfc5280::intermediate-ca-without-ca-bit",
  ],
  requires: ["test-pki", "token"],
  async run(t) {
    const res = await t.send({ as: "non-ca-issuer", token: await t.boundToken("participant-a") });
    await t.expectRejected(res, { status: 401, code: "CERT_CHAIN_INVALID", orHandshakeRefused: true });
  },
});
