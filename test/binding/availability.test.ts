import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startBindingStack, type BindingStack, type ErrorBody } from "../helpers/binding.js";
import { testPki } from "../helpers/edge.js";

/**
 * The authorization server is down (docs/architecture.md §Token binding, never fail open): what the edge already knows keeps working —
 * verified tokens, and the last JWK Set it fetched — and anything it cannot verify is a 503 with a distinct
 * code, not remembered, so the edge recovers as soon as the server is back.
 */

let pki: TestPkiManifest;
let s: BindingStack | undefined;

beforeAll(async () => {
  pki = await testPki();
});

afterEach(async () => {
  await s?.close();
  s = undefined;
});

async function expect503(stack: BindingStack, res: Awaited<ReturnType<BindingStack["call"]>>) {
  expect(res.status).toBe(503);
  expect(res.json<ErrorBody>().errors[0]!.code).toBe("AUTHORIZATION_SERVER_UNAVAILABLE");
  expect(stack.backend.received).toHaveLength(0);
}

describe("JWT access tokens with the authorization server unavailable", () => {
  it("no keys ever fetched: 503 AUTHORIZATION_SERVER_UNAVAILABLE; accepted once the server is back", async () => {
    s = await startBindingStack({ pki });
    const token = await s.stub.issueJwt({ thumbprint: s.thumbprint("participant-a") });
    s.stub.setAvailable(false);
    await expect503(s, await s.call("participant-a", token));
    s.stub.setAvailable(true);
    expect((await s.call("participant-a", token)).status).toBe(200);
  });

  it("discovery unreachable (connection refused): 503", async () => {
    s = await startBindingStack({ pki });
    const token = await s.stub.issueJwt({ thumbprint: s.thumbprint("participant-a") });
    await s.stub.close();
    await expect503(s, await s.call("participant-a", token));
  });

  it("keys past cacheMaxAge while the JWK Set cannot be fetched: the last known keys keep verifying new tokens", async () => {
    s = await startBindingStack({ pki, authorizationServer: () => ({ jwks: { cacheMaxAgeMs: 1_000, cooldownMs: 30_000 } }) });
    const first = await s.stub.issueJwt({ thumbprint: s.thumbprint("participant-a") });
    expect((await s.call("participant-a", first)).status).toBe(200);
    const jwksFetches = s.stub.counts.jwks;
    s.stub.setAvailable(false);
    await new Promise((r) => setTimeout(r, 1_100));
    const second = await s.stub.issueJwt({ thumbprint: s.thumbprint("participant-a") });
    const third = await s.stub.issueJwt({ thumbprint: s.thumbprint("participant-a") });
    expect((await s.call("participant-a", second)).status).toBe(200);
    // After one failed refetch the known keys answer for a cool-down without touching the network again.
    expect((await s.call("participant-a", third)).status).toBe(200);
    expect((await s.call("participant-a", first)).status).toBe(200);
    expect(s.stub.counts.jwks).toBe(jwksFetches);
  });

  it("an already verified token keeps working with the server gone entirely", async () => {
    s = await startBindingStack({ pki });
    const token = await s.stub.issueJwt({ thumbprint: s.thumbprint("participant-a") });
    expect((await s.call("participant-a", token)).status).toBe(200);
    await s.stub.close();
    expect((await s.call("participant-a", token)).status).toBe(200);
    const unseen = await s.stub.issueJwt({ thumbprint: s.thumbprint("participant-a") });
    // The keys were fetched and are fresh: an unseen token verifies without the server.
    expect((await s.call("participant-a", unseen)).status).toBe(200);
  });

  it("an issuer whose discovery address nothing answers: 503, logged", async () => {
    s = await startBindingStack({ pki, authorizationServer: () => ({ issuer: "http://127.0.0.1:1/other-issuer" , discoveryUrl: undefined }) });
    const token = await s.stub.issueJwt({ thumbprint: s.thumbprint("participant-a") });
    // The edge's issuer differs from the stub's: discovery of <issuer>/.well-known fails (nothing listens on :1).
    await expect503(s, await s.call("participant-a", token));
    expect(s.edge.logs.some((l) => l.kind === "binding" && l.code === "AUTHORIZATION_SERVER_UNAVAILABLE")).toBe(true);
  });

  it("discovery answered by a server claiming another issuer: 503 (RFC 8414 §3.3)", async () => {
    s = await startBindingStack({ pki, authorizationServer: (issuer) => ({ issuer: `${issuer}/tenant`, discoveryUrl: `${issuer}/.well-known/openid-configuration` }) });
    const token = await s.stub.issueJwt({ thumbprint: s.thumbprint("participant-a"), claims: { iss: `${s.stub.issuer}/tenant` } });
    await expect503(s, await s.call("participant-a", token));
    expect(s.edge.logs.some((l) => l.kind === "binding" && String(l.detail).includes("RFC 8414"))).toBe(true);
  });

  it("a configured jwksUri needs no discovery", async () => {
    s = await startBindingStack({ pki, authorizationServer: (issuer) => ({ jwksUri: `${issuer}/jwks` }) });
    const token = await s.stub.issueJwt({ thumbprint: s.thumbprint("participant-a") });
    expect((await s.call("participant-a", token)).status).toBe(200);
    expect(s.stub.counts.discovery).toBe(0);
  });
});
