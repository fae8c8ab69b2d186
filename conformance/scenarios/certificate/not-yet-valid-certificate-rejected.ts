import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "not-yet-valid-certificate-rejected",
  area: "certificate",
  title: "A client certificate whose validity starts tomorrow is rejected (401 CERT_NOT_YET_VALID) and nothing is forwarded",
  origin: [
    "RFC 5280 §4.1.2.5 and §6.1.3 (a)(2): the validity period must include the current time",
    "x509-limbo rfc5280::validity::not-yet-valid-1-second and ::not-yet-valid-5-seconds",
    "docs/architecture.md §Chain policy: one validation clock drives notBefore/notAfter at every depth",
  ],
  requires: ["test-pki", "token"],
  async run(t) {
    const res = await t.send({ as: "not-yet-valid", token: await t.boundToken("participant-a") });
    await t.expectRejected(res, { status: 401, code: "CERT_NOT_YET_VALID", orHandshakeRefused: true });
  },
});
