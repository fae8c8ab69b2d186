import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CompactSign, decodeProtectedHeader, importPKCS8 } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import type { RecordedRequest } from "../helpers/backend.js";
import { testPki } from "../helpers/edge.js";
import { startRedisServer } from "../helpers/redis.js";
import { CONSENTS, ofbCode, startSigningStack, verifyBankSignature, type SigningStack } from "../helpers/signing.js";

/**
 * What a verify-and-sign route sends back: the backend's JSON signed by the edge, a backend's own JWS kept
 * (`sign: if-unsigned`) or re-signed (`always`), bodies that cannot be signed refused, a bounded buffer, a signing
 * key replaced on reload; and what the edge answers when a dependency of the checks is gone.
 */

let pki: TestPkiManifest;
let dir: string;
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

beforeAll(async () => {
  pki = await testPki();
  dir = await mkdtemp(join(tmpdir(), "ofb-edge-signed-responses-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** What the backend answers, by the path the test calls. */
const answers = new Map<string, { type?: string; body: string | Buffer; status?: number }>();
function backend(req: RecordedRequest, res: import("node:http").ServerResponse) {
  const a = answers.get(req.url) ?? { type: "application/json", body: JSON.stringify({ data: { path: req.url } }) };
  res.writeHead(a.status ?? 200, { ...(a.type && { "content-type": a.type }), etag: '"backend-etag"' });
  res.end(a.body);
}

describe.each(["always", "if-unsigned"] as const)("sign: %s", (sign) => {
  let s: SigningStack;
  let backendJws: string;
  beforeAll(async () => {
    s = await startSigningStack({ pki, backend, messageSigning: { sign, maxResponseBytes: 4096 } });
    // A backend that signs itself, with a key of its own.
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const key = await importPKCS8(privateKey.export({ type: "pkcs8", format: "pem" }).toString(), "PS256");
    backendJws = await new CompactSign(Buffer.from(JSON.stringify({ data: { by: "backend" }, iss: "backend" }))).setProtectedHeader({ alg: "PS256", kid: "backend-key" }).sign(key);
    answers.set(`${CONSENTS}/signed-${sign}`, { type: "application/jwt", body: backendJws });
    answers.set(`${CONSENTS}/unsecured-${sign}`, { type: "application/jwt", body: `${b64({ alg: "none" })}.${b64({ data: { by: "backend", unsigned: true } })}.` });
  });
  afterAll(() => s?.close());

  it("the backend's JSON: signed by the edge, its validators dropped (the representation changed)", async () => {
    const res = await s.send(undefined, { path: `${CONSENTS}/json-${sign}` });
    expect(res.status).toBe(200);
    expect(res.headers.etag).toBeUndefined();
    expect(Number(res.headers["content-length"])).toBe(res.body.length);
    expect((await verifyBankSignature(pki, res.body.toString("utf8"))).claims).toMatchObject({ data: { path: `${CONSENTS}/json-${sign}` }, iss: pki.bank.organisationId });
  });

  it(`a backend's own JWS: ${sign === "always" ? "its payload re-signed by the edge" : "kept byte for byte"}`, async () => {
    const res = await s.send(undefined, { path: `${CONSENTS}/signed-${sign}` });
    expect(res.status).toBe(200);
    if (sign === "if-unsigned") expect(res.body.toString("utf8")).toBe(backendJws);
    else {
      expect(decodeProtectedHeader(res.body.toString("utf8")).kid).toBe(pki.signingKeys.bank!.kid);
      expect((await verifyBankSignature(pki, res.body.toString("utf8"))).claims).toMatchObject({ data: { by: "backend" }, iss: pki.bank.organisationId, aud: pki.clients["participant-a"]!.organisationId });
    }
  });

  it("a backend's unsecured JWS (alg none): its payload signed by the edge", async () => {
    const res = await s.send(undefined, { path: `${CONSENTS}/unsecured-${sign}` });
    expect((await verifyBankSignature(pki, res.body.toString("utf8"))).claims).toMatchObject({ data: { unsigned: true } });
  });

  it("a body that is not JSON → 502 MESSAGE_RESPONSE_UNSIGNABLE, itself signed", async () => {
    answers.set(`${CONSENTS}/html-${sign}`, { type: "text/html", body: "<h1>oops</h1>" });
    const res = await s.send(undefined, { path: `${CONSENTS}/html-${sign}` });
    expect(res.status).toBe(502);
    expect((await verifyBankSignature(pki, res.body.toString("utf8"))).claims).toMatchObject({ errors: [{ code: "MESSAGE_RESPONSE_UNSIGNABLE" }] });
  });

  it("a JSON array is not a claims set → 502", async () => {
    answers.set(`${CONSENTS}/array-${sign}`, { body: "[1,2]", type: "application/json" });
    expect((await s.send(undefined, { path: `${CONSENTS}/array-${sign}` })).status).toBe(502);
  });

  it("over maxResponseBytes → 502 MESSAGE_RESPONSE_TOO_LARGE (the response is read whole, never beyond the bound)", async () => {
    answers.set(`${CONSENTS}/large-${sign}`, { type: "application/json", body: JSON.stringify({ data: "x".repeat(10_000) }) });
    const res = await s.send(undefined, { path: `${CONSENTS}/large-${sign}` });
    expect({ status: res.status, code: ofbCode(res) }).toEqual({ status: 502, code: "MESSAGE_RESPONSE_TOO_LARGE" });
  });

  it("an empty body (204) stays empty", async () => {
    answers.set(`${CONSENTS}/empty-${sign}`, { status: 204, body: "" });
    const res = await s.send(undefined, { path: `${CONSENTS}/empty-${sign}` });
    expect(res.status).toBe(204);
    expect(res.body.length).toBe(0);
  });

  it("the backend is asked for an unencoded body (no Accept-Encoding), so the edge can read what it signs", async () => {
    await s.send(undefined, { path: `${CONSENTS}/json-${sign}`, headers: { "accept-encoding": "gzip, br" } });
    expect(s.backend.received.at(-1)!.headers["accept-encoding"]).toBeUndefined();
  });
});

describe("the signing key, replaced on reload", () => {
  it("signs with the new key (and kid) from the reload on; a reload with an unreadable key keeps the running one", async () => {
    const s = await startSigningStack({ pki });
    try {
      const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
      const file = join(dir, "rotated.pem");
      await writeFile(file, privateKey.export({ type: "pkcs8", format: "pem" }));
      const next = parseConfig({ ...JSON.parse(JSON.stringify(s.edge.config)), messageSigning: { ...s.edge.config.messageSigning, signingKey: { file, kid: "rotated-kid" } } }, { file: "test-config", baseDir: dir });
      await s.edge.edge.reload(next);
      const res = await s.send(undefined, { path: `${CONSENTS}/after-reload` });
      expect(decodeProtectedHeader(res.body.toString("utf8")).kid).toBe("rotated-kid");
      const broken = parseConfig({ ...JSON.parse(JSON.stringify(next)), messageSigning: { ...next.messageSigning, signingKey: { file: join(dir, "missing.pem"), kid: "x" } } }, { file: "test-config", baseDir: dir });
      await expect(s.edge.edge.reload(broken)).rejects.toThrow(/messageSigning\.signingKey\.file: cannot read .*missing\.pem: ENOENT/);
      expect(decodeProtectedHeader((await s.send(undefined, { path: `${CONSENTS}/x` })).body.toString("utf8")).kid).toBe("rotated-kid");
      const store = parseConfig({ ...JSON.parse(JSON.stringify(next)), messageSigning: { ...next.messageSigning, replayStore: { type: "redis", url: "redis://127.0.0.1:1" } } }, { file: "test-config", baseDir: dir });
      await expect(s.edge.edge.reload(store)).rejects.toThrow(/messageSigning\.replayStore: changed; this part of the configuration takes effect on restart/);
    } finally {
      await s.close();
    }
  });
});

describe("a dependency of the checks is gone → 503 with Retry-After, nothing forwarded", () => {
  it("the Directory keystore (the organisation's keys cannot be read)", async () => {
    const s = await startSigningStack({ pki, directory: { requireRegisteredCertificate: false } });
    try {
      const jws = await (await s.signer()).sign({ aud: s.aud() });
      await s.stopDirectory();
      const res = await s.send(jws);
      expect({ status: res.status, code: ofbCode(res), retryAfter: res.headers["retry-after"] }).toEqual({ status: 503, code: "DIRECTORY_KEYSTORE_UNAVAILABLE", retryAfter: "30" });
      expect(s.backend.received).toHaveLength(0);
    } finally {
      await s.close();
    }
  });

  it("the jti replay store (its Redis stopped): fail closed", async () => {
    const redis = await startRedisServer();
    const s = await startSigningStack({ pki, messageSigning: { replayStore: { type: "redis", url: redis.url, keyPrefix: "t:replay-down:" } } });
    try {
      expect((await s.send(await (await s.signer()).sign({ aud: s.aud() }))).status).toBe(200);
      await redis.kill();
      const res = await s.send(await (await s.signer()).sign({ aud: s.aud() }));
      expect({ status: res.status, code: ofbCode(res), retryAfter: res.headers["retry-after"] }).toEqual({ status: 503, code: "MESSAGE_REPLAY_STORE_UNAVAILABLE", retryAfter: "30" });
      expect(s.backend.received).toHaveLength(1);
    } finally {
      await s.close();
      await redis.kill();
    }
  });
});

describe("the verified message, forwarded through header profiles (sources jws-jti, jws-iat, jws-kid)", () => {
  it("the backend receives the message's jti, iat and kid as the operator's profile names them", async () => {
    const file = join(dir, "signed-message.json");
    await writeFile(file, JSON.stringify({ name: "signed-message", description: "the verified message's claims", headers: [
      { name: "x-message-jti", source: "jws-jti" },
      { name: "x-message-iat", source: "jws-iat", timeFormat: "unix" },
      { name: "x-message-kid", source: "jws-kid" },
    ] }));
    const t = await startSigningStack({
      pki,
      routes: (upstream) => [{ name: "payments", pathPrefix: "/open-banking/payments/", upstream, messageSigning: "verify-and-sign", profiles: ["ofb-identity", "signed-message"] }],
      headerProfiles: { files: [file] },
    });
    try {
      const iat = Math.floor(Date.now() / 1000);
      const jws = await (await t.signer()).sign({ aud: t.aud(), iat, jti: "8d7c1f3e-2b4a-4c5d-9e6f-0a1b2c3d4e5f" });
      expect((await t.send(jws)).status).toBe(200);
      const { headers } = t.backend.received.at(-1)!;
      expect([headers["x-message-jti"], headers["x-message-iat"], headers["x-message-kid"]]).toEqual(["8d7c1f3e-2b4a-4c5d-9e6f-0a1b2c3d4e5f", String(iat), pki.signingKeys["participant-a"]!.kid]);
      // A client cannot set them itself: every field a profile can emit is stripped from requests.
      await t.send(undefined, { path: `${CONSENTS}/x`, headers: { "x-message-jti": "forged" } });
      expect(t.backend.received.at(-1)!.headers["x-message-jti"]).toBeUndefined();
    } finally {
      await t.close();
    }
  });
});
