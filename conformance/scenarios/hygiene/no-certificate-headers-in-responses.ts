import { REFLECT_HEADER, REFLECTED_RESPONSE_HEADERS } from "../../../src/conformance/recorder.js";
import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "no-certificate-headers-in-responses",
  area: "hygiene",
  title: "Certificate and identity headers that a careless backend puts on its response (Client-Cert, XFCC, X-SSL-Client-Cert, X-Amzn-Mtls-Clientcert, x-ofb-*) never reach the client",
  origin: [
    "RFC 9440 §2.2: Client-Cert and Client-Cert-Chain are request fields and MUST NOT be used in HTTP responses",
    "README, What reaches the backend: client-certificate and X-OFB-* fields are removed from every response",
    "identity leaks of rejected or other clients' certificates in other terminators (traefik/traefik#12427, #12887 / PR #13685)",
  ],
  requires: ["client", "token", "recorder"],
  async run(t) {
    const visits = [
      { what: "mTLS route", send: { as: "participant-a", token: await t.boundToken("participant-a") } },
      { what: "public route without a certificate", send: { as: null, path: t.paths.public } },
    ];
    for (const v of visits) {
      const res = await t.send({ ...v.send, headers: { [REFLECT_HEADER]: "1" } });
      t.expectStatus(res, 200);
      t.check(res.headers["cache-control"] === "no-store", `${v.what}: the backend's own Cache-Control came through (the response is the backend's)`, res.headers["cache-control"]);
      const leaked = res.rawHeaders.filter(([k]) => k.toLowerCase() in REFLECTED_RESPONSE_HEADERS).map(([k, val]) => `${k}: ${val}`);
      t.check(leaked.length === 0, `${v.what}: none of ${Object.keys(REFLECTED_RESPONSE_HEADERS).join(", ")} reached the client`, leaked);
    }
  },
});
