import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "pathlen-violation-rejected",
  area: "certificate",
  title: "A client certificate issued by a sub-CA that its parent (pathLenConstraint 0) was not allowed to create is rejected (401 CERT_CHAIN_INVALID) and nothing is forwarded",
  origin: [
    "RFC 5280 §4.2.1.9 pathLenConstraint; §6.1.4 (l) and (m)",
    "x509-limbo pathlen::intermediate-violates-pathlen-0",
    "ITI repository: the v10 SSL ACs sit directly under root v10, so BRCAC chains are leaf → AC → root",
  ],
  requires: ["test-pki", "token"],
  async run(t) {
    const res = await t.send({ as: "pathlen-exceeded", token: await t.boundToken("participant-a") });
    await t.expectRejected(res, { status: 401, code: "CERT_CHAIN_INVALID", orHandshakeRefused: true });
  },
});
