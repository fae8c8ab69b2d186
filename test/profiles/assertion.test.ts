import { generateKeyPairSync } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { calculateJwkThumbprint, createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JWTVerifyOptions } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAdminServer } from "../../src/http/admin.js";
import { identityAssertionSchema, type IdentityAssertionConfig } from "../../src/profiles/assertion-config.js";
import { createIdentityAssertionSigner, type AssertedIdentity, type IdentityAssertionSigner } from "../../src/profiles/assertion.js";

/**
 * Origin protection: the edge signs the identity it verified into a short-lived JWS for the backend, and
 * publishes the public key on the admin listener. A backend that verifies the assertion (explicit algorithm,
 * issuer, audience) rejects forged, expired and misaddressed ones. Keys are generated here, in real files.
 */

const CONFIG_FILE = "/etc/ofb-edge/edge.json";
// Half a second past a whole second: iat is the whole second (RFC 7519 §2 NumericDate).
const NOW_MS = Date.UTC(2025, 5, 2, 12, 0, 0, 500);
const NOW_S = Math.floor(NOW_MS / 1000);
const TYP = "ofb-identity+jwt";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const identity: AssertedIdentity = {
  thumbprint: "Vr1C3Cg5a8rbrh4I0yRkmgdDDhFvqJIO6KbzTGRVk2A",
  organisationId: "74e929d9-33b6-4d85-8ba7-c146c867a817",
  softwareStatementId: "c2f1b1b4-4b5e-4c8a-9a53-0e3b1f1d2a77",
  cnpj: "12345678000195",
  cnpjVerified: true,
  roles: ["DADOS", "PAGTO"],
  clientId: "client-7",
  interactionId: "0b3b4c7e-1f2a-4d5e-8f9a-0b1c2d3e4f5a",
  audience: "http://10.0.0.5:8080",
};

let dir: string;
const keyFile = (name: string) => join(dir, name);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "ofb-edge-assertion-"));
  const ec = (namedCurve: string) => generateKeyPairSync("ec", { namedCurve });
  const rsa = (modulusLength: number) => generateKeyPairSync("rsa", { modulusLength });
  const p256 = ec("P-256");
  const rsa2048 = rsa(2048);
  writeFileSync(keyFile("p256.pkcs8.pem"), p256.privateKey.export({ type: "pkcs8", format: "pem" }));
  writeFileSync(keyFile("p256.sec1.pem"), p256.privateKey.export({ type: "sec1", format: "pem" }));
  writeFileSync(keyFile("p256.other.pem"), ec("P-256").privateKey.export({ type: "pkcs8", format: "pem" }));
  writeFileSync(keyFile("p256.public.pem"), p256.publicKey.export({ type: "spki", format: "pem" }));
  writeFileSync(keyFile("p384.pem"), ec("P-384").privateKey.export({ type: "pkcs8", format: "pem" }));
  writeFileSync(keyFile("rsa2048.pkcs8.pem"), rsa2048.privateKey.export({ type: "pkcs8", format: "pem" }));
  writeFileSync(keyFile("rsa2048.pkcs1.pem"), rsa2048.privateKey.export({ type: "pkcs1", format: "pem" }));
  writeFileSync(keyFile("rsa1024.pem"), rsa(1024).privateKey.export({ type: "pkcs8", format: "pem" }));
  writeFileSync(keyFile("garbage.pem"), "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5LCBqdXN0IGEgZmV3IHdvcmRz\n-----END PRIVATE KEY-----\n");
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const config = (input: Partial<Record<keyof IdentityAssertionConfig, unknown>> & { key: string }): IdentityAssertionConfig =>
  identityAssertionSchema.parse({ ...input, key: keyFile(input.key) });

const signerFor = (input: Parameters<typeof config>[0], now = () => NOW_MS): IdentityAssertionSigner =>
  createIdentityAssertionSigner(config(input), { now, configFile: CONFIG_FILE });

describe.each([
  { algorithm: "ES256", key: "p256.sec1.pem", encoding: "SEC1" },
  { algorithm: "ES256", key: "p256.pkcs8.pem", encoding: "PKCS#8" },
  { algorithm: "PS256", key: "rsa2048.pkcs1.pem", encoding: "PKCS#1" },
  { algorithm: "PS256", key: "rsa2048.pkcs8.pem", encoding: "PKCS#8" },
] as const)("$algorithm with a $encoding key", ({ algorithm, key }) => {
  let signer: IdentityAssertionSigner;
  const verifyOptions = (over: JWTVerifyOptions = {}): JWTVerifyOptions => ({
    algorithms: [algorithm],
    issuer: "ofb-edge",
    audience: identity.audience,
    typ: TYP,
    currentDate: new Date(NOW_MS),
    ...over,
  });

  beforeAll(() => {
    signer = signerFor({ key, algorithm });
  });

  it("signs every claim of the verified identity, verifiable against the published JWKS", async () => {
    const [jwk] = signer.jwks().keys;
    const { payload, protectedHeader } = await jwtVerify(await signer.sign(identity), createLocalJWKSet(signer.jwks()), verifyOptions());
    expect(protectedHeader).toEqual({ alg: algorithm, kid: await calculateJwkThumbprint(jwk!, "sha256"), typ: TYP });
    expect(payload).toEqual({
      iss: "ofb-edge",
      sub: identity.softwareStatementId,
      aud: identity.audience,
      iat: NOW_S,
      exp: NOW_S + 60,
      jti: expect.stringMatching(UUID),
      cnf: { "x5t#S256": identity.thumbprint },
      org_id: identity.organisationId,
      software_statement_id: identity.softwareStatementId,
      cnpj: "12345678000195",
      cnpj_verified: true,
      roles: ["DADOS", "PAGTO"],
      client_id: "client-7",
      interaction_id: identity.interactionId,
    });
  });

  it("publishes the public key only, with kid, alg and use", () => {
    const { keys } = signer.jwks();
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: algorithm === "ES256" ? "EC" : "RSA", alg: algorithm, use: "sig", kid: expect.any(String) });
    for (const privateMember of ["d", "p", "q", "dp", "dq", "qi"]) expect(keys[0]).not.toHaveProperty(privateMember);
  });

  it("rejects an expired assertion: valid in its last second, expired at exp", async () => {
    const token = await signer.sign(identity);
    const jwks = createLocalJWKSet(signer.jwks());
    const exp = NOW_S + 60;
    await expect(jwtVerify(token, jwks, verifyOptions({ currentDate: new Date((exp - 1) * 1000) }))).resolves.toBeDefined();
    await expect(jwtVerify(token, jwks, verifyOptions({ currentDate: new Date(exp * 1000) }))).rejects.toBeInstanceOf(errors.JWTExpired);
  });

  it("rejects an assertion addressed to another upstream", async () => {
    const token = await signer.sign(identity);
    await expect(jwtVerify(token, createLocalJWKSet(signer.jwks()), verifyOptions({ audience: "http://10.0.0.6:8080" }))).rejects.toMatchObject({
      code: "ERR_JWT_CLAIM_VALIDATION_FAILED",
      claim: "aud",
    });
  });
});

describe("assertion claims", () => {
  const verify = async (signer: IdentityAssertionSigner, token: string, over: JWTVerifyOptions = {}) =>
    (await jwtVerify(token, createLocalJWKSet(signer.jwks()), { algorithms: ["ES256"], issuer: "ofb-edge", audience: identity.audience, typ: TYP, currentDate: new Date(NOW_MS), ...over })).payload;

  it("omits cnpj, roles and client_id when the route established none", async () => {
    const signer = signerFor({ key: "p256.pkcs8.pem" });
    const payload = await verify(signer, await signer.sign({ ...identity, cnpj: null, roles: null, clientId: null }));
    expect(payload).not.toHaveProperty("cnpj");
    expect(payload).not.toHaveProperty("cnpj_verified");
    expect(payload).not.toHaveProperty("roles");
    expect(payload).not.toHaveProperty("client_id");
    expect(payload.interaction_id).toBe(identity.interactionId);
  });

  it("marks a CNPJ accepted without valid check digits (policy.cnpj flag) as cnpj_verified: false", async () => {
    const signer = signerFor({ key: "p256.pkcs8.pem" });
    const payload = await verify(signer, await signer.sign({ ...identity, cnpj: "1335323600189", cnpjVerified: false }));
    expect([payload.cnpj, payload.cnpj_verified]).toEqual(["1335323600189", false]);
  });

  it("keeps an empty role list (checked, none active) apart from an unchecked one", async () => {
    const signer = signerFor({ key: "p256.pkcs8.pem" });
    expect((await verify(signer, await signer.sign({ ...identity, roles: [] }))).roles).toEqual([]);
  });

  it("gives every assertion its own jti and dates it by the injected clock", async () => {
    let now = NOW_MS;
    const signer = signerFor({ key: "p256.pkcs8.pem", lifetimeSeconds: 5 }, () => now);
    const first = await verify(signer, await signer.sign(identity));
    now += 42_000;
    const second = await verify(signer, await signer.sign(identity), { currentDate: new Date(now) });
    expect(first).toMatchObject({ iat: NOW_S, exp: NOW_S + 5 });
    expect(second).toMatchObject({ iat: NOW_S + 42, exp: NOW_S + 47 });
    expect(second.jti).not.toBe(first.jti);
  });

  it("uses the configured issuer, kid and header name (in lower case)", async () => {
    const signer = signerFor({ key: "p256.pkcs8.pem", issuer: "edge-a", kid: "edge-2025-06", header: "X-Bank-Identity" });
    expect(signer.header).toBe("x-bank-identity");
    expect(signer.jwks().keys[0]?.kid).toBe("edge-2025-06");
    const { protectedHeader } = await jwtVerify(await signer.sign(identity), createLocalJWKSet(signer.jwks()), {
      algorithms: ["ES256"],
      issuer: "edge-a",
      audience: identity.audience,
      currentDate: new Date(NOW_MS),
    });
    expect(protectedHeader.kid).toBe("edge-2025-06");
  });

  it("rejects a forged assertion: another key under the same kid", async () => {
    const edge = signerFor({ key: "p256.pkcs8.pem", kid: "edge" });
    const impostor = signerFor({ key: "p256.other.pem", kid: "edge" });
    await expect(verify(edge, await impostor.sign(identity))).rejects.toBeInstanceOf(errors.JWSSignatureVerificationFailed);
  });

  it("rejects an assertion whose algorithm the backend does not accept", async () => {
    const signer = signerFor({ key: "rsa2048.pkcs8.pem", algorithm: "PS256" });
    await expect(verify(signer, await signer.sign(identity))).rejects.toBeInstanceOf(errors.JOSEAlgNotAllowed);
  });
});

describe("the JWKS on the admin listener", () => {
  let signer: IdentityAssertionSigner;
  const servers: Server[] = [];

  async function listen(server: Server): Promise<string> {
    servers.push(server);
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  beforeAll(() => {
    signer = signerFor({ key: "p256.pkcs8.pem" });
  });

  afterAll(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    }
  });

  it("serves the signer's JWK Set, and an assertion verifies against the JWKS fetched over HTTP", async () => {
    const base = await listen(createAdminServer({ directory: null, identityAssertion: signer }));
    const res = await fetch(`${base}/.well-known/jwks.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/jwk-set+json");
    expect(res.headers.get("cache-control")).toBe("max-age=300");
    expect(await res.json()).toEqual(signer.jwks());

    const remote = createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(await signer.sign(identity), remote, {
      algorithms: ["ES256"],
      issuer: "ofb-edge",
      audience: identity.audience,
      typ: TYP,
      currentDate: new Date(NOW_MS),
    });
    expect(payload.cnf).toEqual({ "x5t#S256": identity.thumbprint });
  });

  it("answers 404 for the JWKS when the edge signs no assertions, and keeps /healthz", async () => {
    const base = await listen(createAdminServer({ directory: null }));
    expect((await fetch(`${base}/.well-known/jwks.json`)).status).toBe(404);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });
});

describe("key problems stop start-up with a ConfigError naming identityAssertion.key", () => {
  it.each([
    { problem: "a missing file", key: "absent.pem", algorithm: "ES256", message: /cannot read .*absent\.pem: ENOENT/ },
    { problem: "a garbage PEM", key: "garbage.pem", algorithm: "ES256", message: /not an unencrypted private key/ },
    { problem: "a public key", key: "p256.public.pem", algorithm: "ES256", message: /not an unencrypted private key/ },
    { problem: "an RSA 1024 key with PS256", key: "rsa1024.pem", algorithm: "PS256", message: /at least 2048 bits, the key has 1024/ },
    { problem: "a P-384 key with ES256", key: "p384.pem", algorithm: "ES256", message: /P-256 .*secp384r1/ },
    { problem: "an RSA key with ES256", key: "rsa2048.pkcs8.pem", algorithm: "ES256", message: /ES256 needs an EC P-256 key.*type rsa/ },
    { problem: "an EC key with PS256", key: "p256.pkcs8.pem", algorithm: "PS256", message: /PS256 needs an RSA key.*type ec/ },
  ] as const)("$problem", ({ key, algorithm, message }) => {
    expect(() => signerFor({ key, algorithm })).toThrow(
      expect.objectContaining({
        name: "ConfigError",
        file: CONFIG_FILE,
        issues: [{ path: "identityAssertion.key", message: expect.stringMatching(message) }],
        // Never key material: no PEM armour, no line of the file's base64 body.
        message: expect.not.stringMatching(/PRIVATE KEY|bm90IGEga2V5/),
      }),
    );
  });
});

describe("identityAssertionSchema", () => {
  it("applies the defaults", () => {
    expect(identityAssertionSchema.parse({ key: "/keys/assertion.pem" })).toEqual({
      header: "x-ofb-identity-assertion",
      key: "/keys/assertion.pem",
      algorithm: "ES256",
      issuer: "ofb-edge",
      lifetimeSeconds: 60,
    });
  });

  it("rejects an unknown key", () => {
    const result = identityAssertionSchema.safeParse({ key: "/keys/assertion.pem", keyFile: "/keys/other.pem" });
    expect(result.success).toBe(false);
    expect(result.error?.issues).toMatchObject([{ code: "unrecognized_keys", keys: ["keyFile"] }]);
  });

  it.each([
    ["a header that is not a field name", { header: "x ofb identity" }, "header"],
    ["an algorithm other than PS256 or ES256", { algorithm: "RS256" }, "algorithm"],
    ["a lifetime under 5 s", { lifetimeSeconds: 4 }, "lifetimeSeconds"],
    ["a lifetime over 300 s", { lifetimeSeconds: 301 }, "lifetimeSeconds"],
    ["a fractional lifetime", { lifetimeSeconds: 30.5 }, "lifetimeSeconds"],
    ["an empty kid", { kid: "" }, "kid"],
  ])("rejects %s", (_, input, path) => {
    const result = identityAssertionSchema.safeParse({ key: "/keys/assertion.pem", ...input });
    expect(result.error?.issues.map((i) => i.path.join("."))).toEqual([path]);
  });

  it("describes every option (for the generated JSON Schema)", () => {
    for (const [name, option] of Object.entries(identityAssertionSchema.shape)) expect(option.description, name).toBeTruthy();
  });
});
