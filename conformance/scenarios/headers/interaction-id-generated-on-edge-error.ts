import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "interaction-id-generated-on-edge-error",
  area: "headers",
  title: "A request the edge rejects for another reason (no client certificate) and that carried no x-fapi-interaction-id still gets a newly generated UUID, a different one each time",
  origin: [
    "FAPI 1 Part 1 §6.2.1: a new RFC 4122 UUID when the request carried none",
    "OIDF conformance suite: CheckForFAPIInteractionIdInResourceResponse (FAPI1-BASE-6.2.1-11), used after OFB pre-authorization calls that send no id",
    "OpenBanking-Brasil/specs-seguranca #142: the response header must always be returned, errors included",
  ],
  requires: [],
  async run(t) {
    const first = await t.send({ as: null, interactionId: false });
    await t.expectRejected(first, { status: 401, code: "CERT_REQUIRED", orHandshakeRefused: true });
    if (first.status === 0) {
      t.note("the listener refused the certificate-less connection in the handshake: there was no HTTP response to carry an id");
      return;
    }
    const second = await t.send({ as: null, interactionId: false });
    await t.expectRejected(second, { status: 401, code: "CERT_REQUIRED" });
    t.check(first.headers["x-fapi-interaction-id"] !== second.headers["x-fapi-interaction-id"], "each rejection gets its own generated id", [first.headers["x-fapi-interaction-id"], second.headers["x-fapi-interaction-id"]]);
  },
});
