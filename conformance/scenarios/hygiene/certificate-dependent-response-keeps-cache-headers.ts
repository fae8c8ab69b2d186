import { randomBytes, randomUUID } from "node:crypto";
import type { Exchange } from "../../../src/conformance/context.js";
import { scenario } from "../../../src/conformance/scenario.js";

export default scenario({
  id: "certificate-dependent-response-keeps-cache-headers",
  area: "hygiene",
  title: "A response the backend built from the forwarded certificate keeps the backend's Cache-Control: no-store unchanged, so no cache can serve it to another client",
  origin: [
    "RFC 9440 §2.4: a response selected by Client-Cert MUST be Cache-Control: no-store or carry Vary: Client-Cert",
    "RFC 9111 §5.2.2.5: no-store — a cache MUST NOT store any part of the response",
  ],
  requires: ["client", "token", "recorder"],
  async run(t) {
    const token = await t.boundToken("participant-a");
    const keeps = (res: Exchange, what: string) => {
      t.expectStatus(res, 200);
      const lines = res.rawHeaders.filter(([k]) => k.toLowerCase() === "cache-control").map(([, v]) => v);
      t.check(lines.length === 1 && lines[0] === "no-store", `${what}: the client received the backend's Cache-Control: no-store, once and unchanged`, lines);
    };
    keeps(await t.send({ as: "participant-a", token }), "JSON response");
    keeps(
      await t.send({
        as: "participant-a",
        token,
        path: t.paths.payments,
        method: "POST",
        // (A payment initiation carries its x-idempotency-key: OFB payments OpenAPI, required.)
        headers: { "content-type": "application/jwt", "x-idempotency-key": randomUUID() },
        body: `eyJhbGciOiJQUzI1NiJ9.eyJkYXRhIjp7fX0.${randomBytes(32).toString("base64url")}`,
      }),
      "signed (application/jwt) response",
    );
  },
});
