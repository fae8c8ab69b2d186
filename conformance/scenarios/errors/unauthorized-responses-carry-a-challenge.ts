import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "unauthorized-responses-carry-a-challenge",
  area: "errors",
  title: "Every 401 carries a WWW-Authenticate Bearer challenge: none for a request without credentials, invalid_token for a bad token and for a missing or unacceptable client certificate",
  origin: [
    "RFC 9110 §15.5.2: a 401 response MUST send a WWW-Authenticate header field with at least one challenge",
    "RFC 6750 §3: no credentials → a challenge without error; §3.1 invalid_token",
    "RFC 8705 §3: a token used without its certificate is rejected with 401 invalid_token; 3scale APIcast t/apicast-policy-fapi.t: no client certificate → 401 invalid_token",
  ],
  requires: ["client", "token"],
  async run(t) {
    const token = await t.boundToken("participant-a");
    const noCredentials = await t.send({ as: "participant-a" });
    await t.expectRejected(noCredentials, { status: 401, code: "TOKEN_MISSING" });
    t.expectBearerChallenge(noCredentials, null);

    const noCertificate = await t.send({ token });
    if (noCertificate.status === 0) {
      t.note(`the deployment refused the certificate-less connection in the handshake (${noCertificate.error}): no HTTP 401 to inspect`);
    } else {
      await t.expectRejected(noCertificate, { status: 401, code: "CERT_REQUIRED" });
      t.expectBearerChallenge(noCertificate, "invalid_token");
    }

    const badToken = await t.send({ as: "participant-a", token: `${token.slice(0, -4)}AAAA` });
    await t.expectRejected(badToken, { status: 401, code: ["TOKEN_SIGNATURE_INVALID", "TOKEN_MALFORMED", "TOKEN_INACTIVE"] });
    t.expectBearerChallenge(badToken, "invalid_token");

    if (t.has("test-pki")) {
      const expired = await t.send({ as: "expired", token });
      if (expired.status !== 0) {
        await t.expectRejected(expired, { status: 401, code: "CERT_EXPIRED" });
        t.expectBearerChallenge(expired, "invalid_token");
      }
    }
  },
});
