import { headerValues } from "../../../src/conformance/context.js";
import { scenario } from "../../../src/conformance/scenario.js";
import { sfBinary } from "../../lib/forgery.js";

export default scenario({
  id: "connection-listed-fields-keep-edge-identity",
  area: "hygiene",
  title: "A client that names the certificate, identity and interaction-id fields in its Connection header cannot make the edge drop them: the backend still receives the edge's own values (over HTTP/2, where Connection is forbidden, the request is refused and never forwarded)",
  origin: [
    "RFC 9110 §7.6.1: an intermediary removes the fields the received Connection header lists — from the received message, not the fields it adds itself",
    "RFC 9440 §2.4: the TTRP sets Client-Cert for the verified certificate of the connection",
    "FAPI 1 Part 1 §6.2.1: the interaction id is passed on and echoed",
    "RFC 9113 §8.2.2: over HTTP/2, a request with a connection-specific field is malformed",
  ],
  requires: ["client", "token", "recorder"],
  async run(t) {
    const me = t.client("participant-a");
    const listed = ["Client-Cert", "Client-Cert-Chain", "X-Ofb-Organisation-Id", "X-Ofb-X5t-S256", "X-Fapi-Interaction-Id", "X-Forwarded-For"];
    const res = await t.send({ as: "participant-a", token: await t.boundToken("participant-a"), headers: { connection: `close, ${listed.join(", ")}` } });
    if (t.env.protocol === "http2") {
      // RFC 9113 §8.2.2: Connection has no place in HTTP/2; the request is malformed and refused, never forwarded.
      t.check(t.streamRefused(res) || res.status === 400, "over HTTP/2, a request carrying Connection is refused (stream reset or 400)", res.status === 0 ? res.error : res.status);
      await t.expectNotForwarded(res);
      return;
    }
    t.expectStatus(res, 200);
    t.expectInteractionId(res, { echoed: true });
    const got = await t.forwarded(res);
    const id = headerValues(got, "x-fapi-interaction-id");
    t.check(id.length === 1 && id[0] === res.interactionId, "the backend received the request's x-fapi-interaction-id", id);
    t.check(headerValues(got, "connection").every((v) => !/client-cert|x-ofb-|x-fapi-/i.test(v)), "the client's Connection list is not passed on to the backend", headerValues(got, "connection"));
    const clientCert = headerValues(got, "client-cert");
    if (clientCert.length > 0 || t.mode === "local") t.check(clientCert.length === 1 && clientCert[0] === sfBinary(me.leaf), "the backend received the edge's Client-Cert for the presented certificate", clientCert.map((v) => v.slice(0, 80)));
    const org = headerValues(got, "x-ofb-organisation-id");
    if (org.length > 0 || t.mode === "local") t.check(org.length === 1 && org[0] === me.organisationId, "the backend received the edge's x-ofb-organisation-id", org);
    const thumbprint = headerValues(got, "x-ofb-x5t-s256");
    if (thumbprint.length > 0 || t.mode === "local") t.check(thumbprint.length === 1 && thumbprint[0] === me.thumbprint, "the backend received the edge's x-ofb-x5t-s256", thumbprint);
  },
});
