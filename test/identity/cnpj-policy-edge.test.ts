import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest } from "../helpers/client.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";

/**
 * policy.cnpj through a real edge: a participant whose certificate CNPJ fails its check digits (the OFB
 * sandbox's own certificates carry 13 digits) is forwarded marked unverified by default, and refused with
 * IDENTITY_CNPJ_INVALID when the operator says refuse.
 */
const ACCOUNTS = "/open-banking/accounts/v2/accounts";

let pki: TestPkiManifest;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
let flagging: Awaited<ReturnType<typeof startTestEdge>>;
let refusing: Awaited<ReturnType<typeof startTestEdge>>;

beforeAll(async () => {
  pki = await testPki();
  const key = join(mkdtempSync(join(tmpdir(), "ofb-edge-cnpj-")), "assertion.pem");
  writeFileSync(key, generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "pem", type: "pkcs8" }));
  backend = await startRecordingBackend();
  flagging = await startTestEdge({ pki, upstream: backend.url, admin: { host: "127.0.0.1", port: 0 }, identityAssertion: { key } });
  refusing = await startTestEdge({ pki, upstream: backend.url, policy: { cnpj: "refuse" } });
});

afterAll(async () => {
  await flagging?.close();
  await refusing?.close();
  await backend?.close();
});

describe("policy.cnpj", () => {
  it("flag (default): forwards the participant with x-ofb-cnpj-verified: false, in headers and in the identity assertion", async () => {
    const client = pki.clients["cnpj-invalid"]!;
    const res = await httpsRequest({
      pki,
      port: flagging.port,
      credentials: clientCredentials(pki, "cnpj-invalid"),
      path: ACCOUNTS,
      headers: { "x-ofb-cnpj-verified": "true" },
    });
    expect(res.status).toBe(200);
    const received = backend.received.at(-1)!;
    expect(received.headers["x-ofb-organisation-id"]).toBe(client.organisationId);
    expect(received.headers["x-ofb-software-statement-id"]).toBe(client.softwareStatementId);
    expect(received.headers["x-ofb-cnpj"]).toBe(client.cnpj);
    // The client's own copy is stripped: exactly one value, the edge's.
    expect(received.rawHeaders.filter((h) => h.toLowerCase() === "x-ofb-cnpj-verified")).toHaveLength(1);
    expect(received.headers["x-ofb-cnpj-verified"]).toBe("false");

    const jwks = createRemoteJWKSet(new URL(`http://127.0.0.1:${flagging.edge.adminPort}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(received.headers["x-ofb-identity-assertion"] as string, jwks, { algorithms: ["ES256"], audience: backend.url });
    expect([payload.cnpj, payload.cnpj_verified]).toEqual([client.cnpj, false]);
  });

  it("flag: a valid CNPJ is forwarded as verified", async () => {
    const res = await httpsRequest({ pki, port: flagging.port, credentials: clientCredentials(pki, "participant-a"), path: ACCOUNTS });
    expect(res.status).toBe(200);
    expect(backend.received.at(-1)!.headers["x-ofb-cnpj-verified"]).toBe("true");
  });

  it("refuse: answers 401 IDENTITY_CNPJ_INVALID and the backend receives nothing", async () => {
    const before = backend.received.length;
    const res = await httpsRequest({ pki, port: refusing.port, credentials: clientCredentials(pki, "cnpj-invalid"), path: ACCOUNTS });
    expect(res.status).toBe(401);
    expect((JSON.parse(res.body.toString("utf8")) as { errors: { code: string }[] }).errors[0]!.code).toBe("IDENTITY_CNPJ_INVALID");
    expect(backend.received.length).toBe(before);
    const ok = await httpsRequest({ pki, port: refusing.port, credentials: clientCredentials(pki, "participant-a"), path: ACCOUNTS });
    expect(ok.status).toBe(200);
  });
});
