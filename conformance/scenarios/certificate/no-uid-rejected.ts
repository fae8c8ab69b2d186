import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "no-uid-rejected",
  area: "certificate",
  title: "A client certificate without a software statement id (UID) in its subject is rejected (401 IDENTITY_SOFTWARE_STATEMENT_MISSING) and nothing is forwarded",
  origin: [
    "OIDF conformance suite condition/client/AbstractFAPIBrazilExtractCertificateSubject (FAPIBrazilExtractCertificateSubject): a subject without UID is an error",
    "OFB certificate standard 2.1: UID (0.9.2342.19200300.100.1.1) = software statement id",
    "docs/architecture.md §Participant identity: UID → software statement id, parsed by OID",
  ],
  requires: ["test-pki", "token"],
  async run(t) {
    const res = await t.send({ as: "no-uid", token: await t.boundToken("participant-a") });
    await t.expectRejected(res, { status: 401, code: "IDENTITY_SOFTWARE_STATEMENT_MISSING", orHandshakeRefused: true });
  },
});
