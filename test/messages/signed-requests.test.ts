import { constants, createHmac, createPrivateKey, randomUUID, sign } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { testPki } from "../helpers/edge.js";
import { CONSENTS, ofbCode, startSigningStack, verifyBankSignature, type SigningStack } from "../helpers/signing.js";

/**
 * Signed payment messages at the edge (OFB security profile, "Message Content Signing Considerations (JWS)";
 * payments 4.0.0 items 1.2.3–1.2.4): a real edge, the mock Directory's keystore, participant-a's signing key, a
 * recording backend. Every refusal is answered before the backend sees anything.
 */

let pki: TestPkiManifest;
let s: SigningStack;
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

beforeAll(async () => {
  pki = await testPki();
  s = await startSigningStack({ pki });
});
afterAll(() => s?.close());

let before: number;
beforeEach(() => void (before = s.backend.received.length));

/** The response's status and OFB code, the edge's reason code on its access line, and that the backend received nothing. */
async function refused(res: Awaited<ReturnType<SigningStack["send"]>>, status: number, code: string, reason: string) {
  expect({ status: res.status, code: ofbCode(res) }).toEqual({ status, code });
  const id = res.headers["x-fapi-interaction-id"];
  expect(s.edge.logs.find((l) => l.kind === "access" && l.interactionId === id)?.code).toBe(reason);
  expect(s.backend.received.length).toBe(before);
}

describe("a valid signed message", () => {
  it("is forwarded byte for byte, and the response is a JWS the bank's published key verifies, addressed to the caller", async () => {
    const signer = await s.signer();
    const jws = await signer.sign({ aud: s.aud(), payload: { data: { amount: "100.00" } } });
    const res = await s.send(jws);
    expect(res.status).toBe(200);
    const received = s.backend.received.at(-1)!;
    expect(received.body.toString("latin1")).toBe(jws);
    expect(received.headers["content-type"]).toBe("application/jwt");
    expect(res.headers["content-type"]).toBe("application/jwt");
    const { header, claims } = await verifyBankSignature(pki, res.body.toString("utf8"));
    expect(header).toEqual({ alg: "PS256", kid: pki.signingKeys.bank!.kid, typ: "JWT" });
    expect(claims).toMatchObject({ ok: true, path: CONSENTS, iss: pki.bank.organisationId, aud: pki.clients["participant-a"]!.organisationId });
    expect(claims.jti).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Math.abs((claims.iat as number) - Date.now() / 1000)).toBeLessThan(5);
  });

  it("an aud given as an array holding the endpoint is accepted", async () => {
    const res = await s.send(await (await s.signer()).sign({ aud: ["https://elsewhere.test/x", s.aud()] }));
    expect(res.status).toBe(200);
  });

  it("a GET (no body) on a verify-and-sign route passes, and its response is signed", async () => {
    const res = await s.send(undefined, { path: `${CONSENTS}/urn:bank:1` });
    expect(res.status).toBe(200);
    expect((await verifyBankSignature(pki, res.body.toString("utf8"))).claims.aud).toBe(pki.clients["participant-a"]!.organisationId);
  });

  it("on a verify route the message is checked and the response relayed unsigned", async () => {
    const path = "/open-banking/automatic-payments/v2/recurring-consents";
    expect((await s.send(await (await s.signer()).sign({ aud: "https://wrong.test/" }), { path })).status).toBe(403);
    const res = await s.send(await (await s.signer()).sign({ aud: s.aud(path) }), { path });
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json");
  });

  it("the built-in table leaves non-payment APIs alone (accounts: off)", async () => {
    const res = await s.send("not a JWS", { path: "/open-banking/accounts/v2/accounts", headers: { "content-type": "text/plain" } });
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json");
  });
});

describe("bad or missing signature → 400 BAD_SIGNATURE (payments 4.0.0 item 1.2.3), the backend receives nothing", () => {
  it("a JSON body instead of a JWS (MESSAGE_SIGNATURE_MISSING)", async () => {
    await refused(await s.send(JSON.stringify({ data: {} }), { headers: { "content-type": "application/json" } }), 400, "BAD_SIGNATURE", "MESSAGE_SIGNATURE_MISSING");
  });

  it("a POST without a body", async () => {
    await refused(await s.send(undefined, { method: "POST" }), 400, "BAD_SIGNATURE", "MESSAGE_SIGNATURE_MISSING");
  });

  it("an unparsable JWS", async () => {
    await refused(await s.send("eyJhbGciOiJQUzI1NiJ9.not-base64!.x"), 400, "BAD_SIGNATURE", "MESSAGE_MALFORMED");
  });

  it("alg none (an unsecured JWS)", async () => {
    const none = `${b64({ alg: "none", kid: pki.signingKeys["participant-a"]!.kid })}.${b64({ iss: pki.clients["participant-a"]!.organisationId, aud: s.aud(), iat: Math.floor(Date.now() / 1000), jti: randomUUID() })}.`;
    await refused(await s.send(none), 400, "BAD_SIGNATURE", "MESSAGE_ALGORITHM_NOT_ALLOWED");
  });

  it("HS256 (a shared-secret MAC, never a participant's signature)", async () => {
    const input = `${b64({ alg: "HS256", kid: pki.signingKeys["participant-a"]!.kid })}.${b64({ iss: pki.clients["participant-a"]!.organisationId, aud: s.aud(), iat: Math.floor(Date.now() / 1000), jti: randomUUID() })}`;
    const mac = createHmac("sha256", "secret").update(input).digest("base64url");
    await refused(await s.send(`${input}.${mac}`), 400, "BAD_SIGNATURE", "MESSAGE_ALGORITHM_NOT_ALLOWED");
  });

  it("no kid in the header", async () => {
    await refused(await s.send(await (await s.signer()).sign({ aud: s.aud(), header: { kid: undefined } })), 400, "BAD_SIGNATURE", "MESSAGE_KEY_UNKNOWN");
  });

  it("an unknown kid", async () => {
    await refused(await s.send(await (await s.signer()).sign({ aud: s.aud(), header: { kid: "not-a-published-key" } })), 400, "BAD_SIGNATURE", "MESSAGE_KEY_UNKNOWN");
  });

  it("a key only in the organisation's inactive/application.jwks", async () => {
    await refused(await s.send(await (await s.signer("participant-a-inactive")).sign({ aud: s.aud() })), 400, "BAD_SIGNATURE", "MESSAGE_KEY_INACTIVE");
  });

  it("another organisation's key (participant-b's) presented with participant-a's certificate", async () => {
    await refused(await s.send(await (await s.signer("participant-b")).sign({ aud: s.aud(), iss: pki.clients["participant-a"]!.organisationId! })), 400, "BAD_SIGNATURE", "MESSAGE_KEY_UNKNOWN");
  });

  it("a header naming an extension in crit, validly signed (RFC 7515 §4.1.11: an extension the edge does not process)", async () => {
    const a = pki.signingKeys["participant-a"]!;
    const input = `${b64({ alg: "PS256", kid: a.kid, typ: "JWT", crit: ["b64"], b64: false })}.${b64({ iss: pki.clients["participant-a"]!.organisationId, aud: s.aud(), iat: Math.floor(Date.now() / 1000), jti: randomUUID() })}`;
    const signature = sign("sha256", Buffer.from(input), { key: createPrivateKey(readFileSync(a.key)), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    await refused(await s.send(`${input}.${signature.toString("base64url")}`), 400, "BAD_SIGNATURE", "MESSAGE_SIGNATURE_INVALID");
  });

  it("a PSS signature with another salt length than the hash's (RFC 7518 §3.5)", async () => {
    const a = pki.signingKeys["participant-a"]!;
    const input = `${b64({ alg: "PS256", kid: a.kid, typ: "JWT" })}.${b64({ iss: pki.clients["participant-a"]!.organisationId, aud: s.aud(), iat: Math.floor(Date.now() / 1000), jti: randomUUID() })}`;
    const signature = sign("sha256", Buffer.from(input), { key: createPrivateKey(readFileSync(a.key)), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 20 });
    await refused(await s.send(`${input}.${signature.toString("base64url")}`), 400, "BAD_SIGNATURE", "MESSAGE_SIGNATURE_INVALID");
  });

  it("a payload changed after signing", async () => {
    const [h, , sig] = (await (await s.signer()).sign({ aud: s.aud(), payload: { amount: "1.00" } })).split(".");
    const forged = b64({ amount: "1000000.00", iss: pki.clients["participant-a"]!.organisationId, aud: s.aud(), iat: Math.floor(Date.now() / 1000), jti: randomUUID() });
    await refused(await s.send(`${h}.${forged}.${sig}`), 400, "BAD_SIGNATURE", "MESSAGE_SIGNATURE_INVALID");
  });
});

describe("claims → 403 INVALID_CLIENT (payments 4.0.0 item 1.2.4), the backend receives nothing", () => {
  const now = () => Math.floor(Date.now() / 1000);

  it("iss other than the certificate's organisation", async () => {
    await refused(await s.send(await (await s.signer()).sign({ aud: s.aud(), iss: pki.clients["participant-b"]!.organisationId! })), 403, "INVALID_CLIENT", "MESSAGE_ISSUER_INVALID");
  });

  it("aud another endpoint (the bank's other API)", async () => {
    await refused(await s.send(await (await s.signer()).sign({ aud: s.aud("/open-banking/payments/v4/pix/payments") })), 403, "INVALID_CLIENT", "MESSAGE_AUDIENCE_INVALID");
  });

  it("iat 10 minutes old", async () => {
    await refused(await s.send(await (await s.signer()).sign({ aud: s.aud(), iat: now() - 600 })), 403, "INVALID_CLIENT", "MESSAGE_IAT_INVALID");
  });

  it("no jti, or one that is not a UUID", async () => {
    await refused(await s.send(await (await s.signer()).sign({ aud: s.aud(), omit: ["jti"] })), 403, "INVALID_CLIENT", "MESSAGE_JTI_INVALID");
    await refused(await s.send(await (await s.signer()).sign({ aud: s.aud(), jti: "1" })), 403, "INVALID_CLIENT", "MESSAGE_JTI_INVALID");
  });

  it("a jti used before: the first is forwarded, its replay refused", async () => {
    const jws = await (await s.signer()).sign({ aud: s.aud() });
    expect((await s.send(jws)).status).toBe(200);
    before = s.backend.received.length;
    await refused(await s.send(jws), 403, "INVALID_CLIENT", "MESSAGE_JTI_REPLAYED");
    // The same jti in another message of the same organisation is a replay too.
    const jti = JSON.parse(Buffer.from(jws.split(".")[1]!, "base64url").toString("utf8")).jti as string;
    await refused(await s.send(await (await s.signer()).sign({ aud: s.aud(), jti: jti.toUpperCase() })), 403, "INVALID_CLIENT", "MESSAGE_JTI_REPLAYED");
  });

  it("a message refused for its claims does not use up its jti (a corrected message may be sent)", async () => {
    const jti = randomUUID();
    await refused(await s.send(await (await s.signer()).sign({ aud: "https://wrong.test", jti })), 403, "INVALID_CLIENT", "MESSAGE_AUDIENCE_INVALID");
    expect((await s.send(await (await s.signer()).sign({ aud: s.aud(), jti }))).status).toBe(200);
  });
});

describe("iat within ±60 s of the edge's clock: the boundary, on an edge whose clock stands still", () => {
  const T = Math.floor(Date.now() / 1000) * 1000;
  let f: SigningStack;
  beforeAll(async () => {
    f = await startSigningStack({ pki, clock: () => new Date(T) });
  });
  afterAll(() => f?.close());

  it.each([
    ["61 s old", -61, 403],
    ["61 s in the future", 61, 403],
    ["60 s old", -60, 200],
    ["60 s in the future", 60, 200],
  ] as const)("iat %s → %i", async (_what, offset, status) => {
    const received = f.backend.received.length;
    const res = await f.send(await (await f.signer()).sign({ aud: f.aud(), iat: T / 1000 + offset }));
    expect({ status: res.status, code: ofbCode(res) }).toEqual(status === 200 ? { status, code: undefined } : { status, code: "INVALID_CLIENT" });
    expect(f.backend.received.length).toBe(received + (status === 200 ? 1 : 0));
    if (status === 403) expect(f.edge.logs.find((l) => l.kind === "access" && l.interactionId === res.headers["x-fapi-interaction-id"])?.code).toBe("MESSAGE_IAT_INVALID");
  });
});

describe("what the edge answers on a verify-and-sign route is signed too", () => {
  it("its own refusals: a JWS (application/jwt) of the OFB error, by the bank, addressed to the caller", async () => {
    const res = await s.send(await (await s.signer()).sign({ aud: "https://wrong.test" }));
    expect(res.headers["content-type"]).toBe("application/jwt");
    const { claims } = await verifyBankSignature(pki, res.body.toString("utf8"));
    expect(claims).toMatchObject({ iss: pki.bank.organisationId, aud: pki.clients["participant-a"]!.organisationId, errors: [{ code: "INVALID_CLIENT" }] });
    expect((claims.meta as { requestDateTime: string }).requestDateTime).toMatch(/Z$/);
  });

  it("an earlier stage's refusal (participant-b's PAGTO role is Inactive): signed, addressed to participant-b", async () => {
    const res = await s.send(undefined, { client: "participant-b" });
    expect(res.status).toBe(403);
    const { claims } = await verifyBankSignature(pki, res.body.toString("utf8"));
    expect(claims).toMatchObject({ aud: pki.clients["participant-b"]!.organisationId, errors: [{ code: "DIRECTORY_ROLE_INACTIVE" }] });
  });

  it("a refusal without a known caller (no client certificate) stays plain JSON: there is no one to address it to", async () => {
    const res = await s.send(undefined, { client: null });
    expect(res.status).toBe(401);
    expect(res.headers["content-type"]).toBe("application/json; charset=utf-8");
  });

  it("counts signatures verified and refused by reason, replays and responses signed", async () => {
    const text = await s.edge.metrics.registry.metrics();
    expect(text).toMatch(/ofb_edge_message_signatures_total\{route="payments",result="verified"\} [1-9]/);
    expect(text).toMatch(/ofb_edge_message_signatures_total\{route="payments",result="refused",code="MESSAGE_KEY_INACTIVE"\} 1/);
    expect(text).toMatch(/ofb_edge_message_jti_replays_total\{route="payments"\} 2/);
    expect(text).toMatch(/ofb_edge_message_responses_total\{route="payments",outcome="signed"\} [1-9]/);
    expect(text).toMatch(/ofb_edge_message_responses_total\{route="payments",outcome="error-signed"\} [1-9]/);
  });
});
