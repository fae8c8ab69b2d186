import { scenario } from "../../../src/conformance/scenario.js";
import { forgedLines, newForgery } from "../../lib/forgery.js";

export default scenario({
  id: "spoofed-underscore-header-names-stripped",
  area: "hygiene",
  title: "Forged certificate and identity headers spelled with underscores (X_SSL_Client_Cert, Client_Cert …), which CGI-style backends read as the dashed names, never reach the backend",
  origin: [
    "RFC 9440 §2.4: incoming Client-Cert MUST be removed or overwritten — a backend that maps '_' and '-' alike (CGI HTTP_CLIENT_CERT, nginx underscores_in_headers) reads Client_Cert as Client-Cert",
    "Apache httpd mod_ssl documentation: CGI variables (SSL_CLIENT_CERT) and the spoofing reports (openshift/router PR #805, CVE-2026-46579)",
  ],
  requires: ["client", "token", "recorder"],
  async run(t) {
    const f = newForgery();
    const forged: Record<string, string> = {
      Client_Cert: `:${f.b64}:`,
      Client_Cert_Chain: `:${f.b64}:`,
      X_Forwarded_Client_Cert: `Hash=${f.text}`,
      X_SSL_Client_Cert: f.b64,
      SSL_CLIENT_CERT: f.b64,
      SSL_CLIENT_VERIFY: `SUCCESS ${f.text}`,
      X_Amzn_Mtls_Clientcert: f.b64,
      X_ARR_ClientCert: f.b64,
      x_ofb_organisation_id: f.text,
      x_ofb_x5t_s256: f.text,
    };
    for (const visit of [
      { as: "participant-a" as const, path: t.paths.accounts, token: await t.boundToken("participant-a") },
      { as: null, path: t.paths.public, token: undefined },
    ]) {
      const res = await t.send({ as: visit.as, path: visit.path, ...(visit.token ? { token: visit.token } : {}), headers: forged });
      t.expectStatus(res, 200);
      const got = await t.forwarded(res);
      const what = visit.as ? "with mTLS" : "without mTLS";
      t.check(forgedLines(got, f).length === 0, `${what}: the backend received none of the forged values`, forgedLines(got, f));
      const underscored = got.headers.filter(([k]) => k.includes("_")).map(([k]) => k);
      t.check(underscored.length === 0, `${what}: the backend received none of the underscore-spelled fields`, underscored);
    }
  },
});
