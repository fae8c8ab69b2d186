import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRemoteJWKSet, errors, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest } from "../helpers/client.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";

/**
 * The signed identity assertion end to end (issue: origin protection): the backend receives a JWS over the
 * verified identity with `aud` = its own origin, verifiable with the JWKS the admin listener serves; a client's
 * own copy of the header never reaches the backend.
 */

let pki: TestPkiManifest;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
let edge: Awaited<ReturnType<typeof startTestEdge>>;
const clock = { now: Date.now() };

beforeAll(async () => {
  pki = await testPki();
  const dir = mkdtempSync(join(tmpdir(), "ofb-edge-assertion-"));
  const key = join(dir, "assertion.pem");
  writeFileSync(key, generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "pem", type: "pkcs8" }));
  backend = await startRecordingBackend();
  edge = await startTestEdge({
    pki,
    upstream: backend.url,
    clock: () => new Date(clock.now),
    admin: { host: "127.0.0.1", port: 0 },
    identityAssertion: { key, lifetimeSeconds: 30 },
  });
});

afterAll(async () => {
  await edge?.close();
  await backend?.close();
});

describe("identity assertion", () => {
  it("the backend can verify who called with the edge's JWKS; a spoofed copy is replaced", async () => {
    const a = pki.clients["participant-a"]!;
    const res = await httpsRequest({
      pki,
      port: edge.port,
      credentials: clientCredentials(pki, "participant-a"),
      path: "/open-banking/accounts/v2/accounts",
      headers: { "x-ofb-identity-assertion": "eyJhbGciOiJub25lIn0.eyJzdWIiOiJldmlsIn0." },
    });
    expect(res.status).toBe(200);
    const rec = backend.received.at(-1)!;
    expect(rec.rawHeaders.filter((h) => h.toLowerCase() === "x-ofb-identity-assertion")).toHaveLength(1);
    const jws = rec.headers["x-ofb-identity-assertion"] as string;
    const jwks = createRemoteJWKSet(new URL(`http://127.0.0.1:${edge.edge.adminPort}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(jws, jwks, { algorithms: ["ES256"], issuer: "ofb-edge", audience: backend.url, currentDate: new Date(clock.now) });
    expect(protectedHeader.typ).toBe("ofb-identity+jwt");
    expect(payload).toMatchObject({
      sub: a.softwareStatementId,
      org_id: a.organisationId,
      software_statement_id: a.softwareStatementId,
      cnpj: a.cnpj,
      cnf: { "x5t#S256": a.thumbprint },
      interaction_id: rec.headers["x-fapi-interaction-id"],
    });
    await expect(jwtVerify(jws, jwks, { algorithms: ["ES256"], audience: backend.url, currentDate: new Date(clock.now + 31_000) })).rejects.toBeInstanceOf(errors.JWTExpired);
  });

  it("a request without a certificate carries no assertion, and the client's copy is stripped", async () => {
    const res = await httpsRequest({ pki, port: edge.port, path: "/.well-known/openid-configuration", headers: { "x-ofb-identity-assertion": "forged" } });
    expect(res.status).toBe(200);
    expect(backend.received.at(-1)!.headers["x-ofb-identity-assertion"]).toBeUndefined();
  });
});
