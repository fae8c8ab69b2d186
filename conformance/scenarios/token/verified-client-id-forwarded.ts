import { randomUUID } from "node:crypto";
import { headerValues } from "../../../src/conformance/context.js";
import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "verified-client-id-forwarded",
  area: "token",
  title: "The backend receives the verified token's client_id in exactly one x-ofb-client-id header, replacing a value the client sent itself",
  origin: [
    "docs/architecture.md, decision D9: identity forwarded as derived headers (ofb-identity profile: x-ofb-client-id from the certificate-bound access token)",
    "RFC 8705 §3: the client identity is established by the verified, certificate-bound token, not by the request",
  ],
  requires: ["client", "token-issuer", "recorder"],
  async run(t) {
    const clientId = `conformance-${randomUUID()}`;
    const token = await t.issuer.jwt({ thumbprint: t.client("participant-a").thumbprint, claims: { client_id: clientId, scope: "openid accounts payments" } });
    const res = await t.send({ as: "participant-a", token, headers: { "x-ofb-client-id": "spoofed-by-the-client" } });
    t.expectStatus(res, 200);
    const got = await t.forwarded(res);
    const values = headerValues(got, "x-ofb-client-id");
    t.equal(values.length, 1, "the number of x-ofb-client-id headers the backend received");
    t.equal(values[0], clientId, "x-ofb-client-id (the token's client_id)");
    t.equal(headerValues(got, "authorization")[0], `Bearer ${token}`, "the Authorization header the backend received");
  },
});
