import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTokenVerifier, type TokenVerifier } from "../../src/binding/verifier.js";
import { authorizationServerSchema } from "../../src/config/schema.js";
import { startAuthorizationServerStub, type AuthorizationServerStub } from "../../src/dev/authorization-server.js";

// The verifier's per-connection memory: a client repeating its token on a kept-alive connection is recalled by
// string comparison (no SHA-256, no cache look-up), for exactly as long as the cache would hold the outcome.

let stub: AuthorizationServerStub;
let verifier: TokenVerifier;
const clock = { now: Date.now() };

beforeAll(async () => {
  stub = await startAuthorizationServerStub();
  verifier = createTokenVerifier(authorizationServerSchema.parse({ issuer: stub.issuer, clockSkewSeconds: 0 }), { now: () => clock.now, configFile: "test" });
});

afterAll(async () => {
  await verifier?.close();
  await stub?.close();
});

describe("token verifier: the last token per connection", () => {
  it("recalls a repeated token on one connection and on another (cache), verifying once; another token is its own", async () => {
    const connection = {};
    const token = await stub.issueJwt({ thumbprint: "a".repeat(43), claims: { client_id: "one" }, lifetimeSeconds: 60, now: new Date(clock.now) });
    const other = await stub.issueJwt({ thumbprint: "b".repeat(43), claims: { client_id: "two" }, lifetimeSeconds: 60, now: new Date(clock.now) });
    const base = { ...verifier.stats };
    const first = await verifier.verify(token, connection);
    const again = await verifier.verify(token, connection);
    const elsewhere = await verifier.verify(token, {});
    expect(first).toMatchObject({ ok: true, token: { clientId: "one" } });
    expect(again).toBe(first);
    expect(elsewhere).toEqual(first);
    const switched = await verifier.verify(other, connection);
    expect(switched).toMatchObject({ ok: true, token: { clientId: "two" } });
    expect(await verifier.verify(token, connection)).toMatchObject({ ok: true, token: { clientId: "one" } });
    expect(verifier.stats.verifications - base.verifications).toBe(2);
    expect(verifier.stats.hits - base.hits).toBe(3);
  });

  it("recalls it even after the cache has evicted it (the connection's memory, not a second look-up)", async () => {
    const small = createTokenVerifier(authorizationServerSchema.parse({ issuer: stub.issuer, cache: { maxEntries: 1 } }), { now: () => clock.now, configFile: "test" });
    try {
      const connection = {};
      const token = await stub.issueJwt({ thumbprint: "e".repeat(43), now: new Date(clock.now) });
      const evicting = await stub.issueJwt({ thumbprint: "f".repeat(43), now: new Date(clock.now) });
      expect(await small.verify(token, connection)).toMatchObject({ ok: true });
      expect(await small.verify(evicting, {})).toMatchObject({ ok: true });
      expect(await small.verify(token, connection)).toMatchObject({ ok: true });
      expect(small.stats).toMatchObject({ verifications: 2, hits: 1 });
      expect(await small.verify(token, {})).toMatchObject({ ok: true });
      expect(small.stats.verifications).toBe(3);
    } finally {
      await small.close();
    }
  });

  it("forgets it once the token expires: the same connection gets TOKEN_EXPIRED, never the remembered outcome", async () => {
    const connection = {};
    const token = await stub.issueJwt({ thumbprint: "c".repeat(43), lifetimeSeconds: 30, now: new Date(clock.now) });
    expect(await verifier.verify(token, connection)).toMatchObject({ ok: true });
    clock.now += 31_000;
    expect(await verifier.verify(token, connection)).toMatchObject({ ok: false, code: "TOKEN_EXPIRED" });
  });

  it("does not remember a failure per connection (the next valid token is verified, not refused)", async () => {
    const connection = {};
    const bad = `${(await stub.issueJwt({ now: new Date(clock.now) })).slice(0, -4)}AAAA`;
    expect(await verifier.verify(bad, connection)).toMatchObject({ ok: false });
    const good = await stub.issueJwt({ thumbprint: "d".repeat(43), now: new Date(clock.now) });
    expect(await verifier.verify(good, connection)).toMatchObject({ ok: true });
  });
});
