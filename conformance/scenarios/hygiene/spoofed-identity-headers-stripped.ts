import { randomUUID } from "node:crypto";
import { headerValues } from "../../../src/conformance/context.js";
import { scenario } from "../../../src/conformance/scenario.js";

/** `client_id` of a JWT access token, or null (opaque token or no such claim). */
function clientIdOf(token: string): string | null {
  try {
    const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as { client_id?: unknown };
    return typeof payload.client_id === "string" ? payload.client_id : null;
  } catch {
    return null;
  }
}

export default scenario({
  id: "spoofed-identity-headers-stripped",
  area: "hygiene",
  title: "Forged x-ofb-* identity headers (organisation, software statement, CNPJ, roles, certificate thumbprint, client id) never reach the backend: it receives only the values the edge derived from the certificate, the Directory and the token",
  origin: [
    "docs/architecture.md, decision D9: identity forwarded as derived headers — profiles/ofb-identity.json",
    "RFC 9440 §2.4 and §4: fields that convey the client's identity are set only by the TLS-terminating proxy; incoming copies are removed",
    "RFC 8705 §3: the identity comes from the TLS layer, never from the request",
  ],
  requires: ["client", "token", "recorder"],
  async run(t) {
    const me = t.client("participant-a");
    const token = await t.boundToken("participant-a");
    const forged: Record<string, string> = {
      "x-ofb-organisation-id": randomUUID(),
      "x-ofb-software-statement-id": randomUUID(),
      "x-ofb-cnpj": "00000000000191",
      "x-ofb-roles": "DADOS,PAGTO,CONTA,CCORR",
      "x-ofb-x5t-s256": Buffer.from(randomUUID()).toString("base64url"),
      "x-ofb-client-id": `forged-client-${randomUUID()}`,
    };
    const res = await t.send({ as: "participant-a", token, headers: forged });
    t.expectStatus(res, 200);
    const got = await t.forwarded(res);
    for (const [name, value] of Object.entries(forged)) {
      const lines = headerValues(got, name);
      t.check(!lines.includes(value), `the backend did not receive the forged ${name}`, lines);
      t.check(lines.length <= 1, `the backend received ${name} at most once`, lines);
    }
    if (headerValues(got, "x-ofb-organisation-id").length === 0 && t.mode === "target") {
      t.note("the deployment does not forward the ofb-identity fields: only the stripping was checked");
      return;
    }
    const expected: Record<string, string | null> = {
      "x-ofb-organisation-id": me.organisationId,
      "x-ofb-software-statement-id": me.softwareStatementId,
      "x-ofb-cnpj": me.cnpj,
      "x-ofb-x5t-s256": me.thumbprint,
      "x-ofb-client-id": clientIdOf(token),
    };
    for (const [name, value] of Object.entries(expected)) {
      if (value === null) continue;
      t.check(JSON.stringify(headerValues(got, name)) === JSON.stringify([value]), `the backend's ${name} is the real one (${value})`, headerValues(got, name));
    }
    const roles = headerValues(got, "x-ofb-roles");
    t.check(roles.length === 1, "the backend received x-ofb-roles once", roles);
    if (t.mode === "local") {
      const granted = roles[0]!.split(",").map((r) => r.trim()).sort();
      t.check(granted.join(",") === "DADOS,PAGTO", "the backend's x-ofb-roles are participant-a's Active Directory roles (DADOS, PAGTO)", roles[0]);
    }
  },
});
