import { dirname } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { createKeystore } from "../../src/directory/keystore.js";
import { createMemoryStore } from "../../src/directory/memory-store.js";
import { startMockDirectory, type MockDirectory } from "../../src/directory/mock.js";
import type { DirectoryStore } from "../../src/directory/types.js";
import { loadTestPki, type TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { testDispatcher } from "../helpers/outbound.js";

const dispatcher = testDispatcher();

const TTL = 300_000;
const NEGATIVE_TTL = 30_000;

/**
 * The memory store on a clock the test moves, recording what the keystore client writes to its cache under
 * `keystore:` (the thumbprint sets); the `thumbprint:` reverse index is recorded in `owners`.
 */
function clockedCache() {
  let now = 0;
  const store = createMemoryStore({ now: () => now });
  const writes: { key: string; value: string; ttlMs: number }[] = [];
  const owners: { key: string; value: string; ttlMs: number }[] = [];
  const reads: string[] = [];
  const cache: Pick<DirectoryStore, "cacheGet" | "cacheSet"> = {
    cacheGet: (key) => {
      reads.push(key);
      return store.cacheGet(key);
    },
    cacheSet: (key, value, ttlMs) => {
      (key.startsWith("thumbprint:") ? owners : writes).push({ key, value, ttlMs });
      return store.cacheSet(key, value, ttlMs);
    },
  };
  return { cache, writes, owners, reads, now: () => now, advance: (ms: number) => void (now += ms) };
}

describe("keystore key status against the test PKI's published keystore (OFB DCR v2.1.0 §9.4, docs/architecture.md, decision D6)", () => {
  let pki: TestPkiManifest;
  let mock: MockDirectory;
  const requests: string[] = [];
  let store: ReturnType<typeof clockedCache>;
  let keystore: ReturnType<typeof createKeystore>;

  const ids = (name: string) => {
    const client = pki.clients[name]!;
    return [client.organisationId!, client.softwareStatementId!, client.thumbprint] as const;
  };
  const jwksPaths = (name: string) => {
    const [org, ss] = ids(name);
    return [`/keystore/${org}/${ss}/transport.jwks`, `/keystore/${org}/${ss}/inactive/transport.jwks`];
  };

  beforeAll(async () => {
    pki = await loadTestPki(inject("pkiDir"));
    mock = await startMockDirectory({ fixtureDir: dirname(pki.directory.participants), onRequest: (r) => void requests.push(r.path) });
  });
  afterAll(() => mock.close());
  beforeEach(() => {
    requests.length = 0;
    store = clockedCache();
    keystore = createKeystore({ baseUrl: mock.keystoreUrl, cache: store.cache, ttlMs: TTL, negativeTtlMs: NEGATIVE_TTL, timeoutMs: 5_000, maxBytes: 256 * 1024, now: store.now, dispatcher });
  });

  it.each([
    ["participant-a", "active"],
    ["participant-inactive-key", "inactive"],
    ["participant-unregistered-key", "unregistered"],
    ["participant-unknown-org", "unregistered"],
  ])("%s: %s, read from transport.jwks and inactive/transport.jwks", async (name, status) => {
    expect(await keystore.keyStatus(...ids(name))).toBe(status);
    expect(requests.sort()).toEqual(jwksPaths(name).sort());
  });

  it("another participant's registered certificate is not a key of this software statement", async () => {
    const [org, ss] = ids("participant-a");
    expect(await keystore.keyStatus(org, ss, pki.clients["participant-b"]!.thumbprint)).toBe("unregistered");
  });

  it("organisation and software statement ids are compared case-insensitively", async () => {
    const [org, ss, thumbprint] = ids("participant-a");
    expect(await keystore.keyStatus(org.toUpperCase(), ss.toUpperCase(), thumbprint)).toBe("active");
    expect(requests.sort()).toEqual(jwksPaths("participant-a").sort());
  });

  it("remembers a software statement in process for ttlMs: known participants cost no shared-cache (Redis) round trip", async () => {
    await keystore.keyStatus(...ids("participant-a"));
    const reads = store.reads.length;
    store.advance(TTL - 1);
    expect(await keystore.keyStatus(...ids("participant-a"))).toBe("active");
    expect(store.reads.length).toBe(reads);
    store.advance(1);
    await keystore.keyStatus(...ids("participant-a"));
    expect(store.reads.length).toBe(reads + 1);
  });

  it("single-flight: 10 concurrent checks of one software statement make exactly 2 HTTP requests", async () => {
    const results = await Promise.all(Array.from({ length: 10 }, () => keystore.keyStatus(...ids("participant-a"))));
    expect(results).toEqual(Array(10).fill("active"));
    expect(requests).toHaveLength(2);
    expect(store.writes).toHaveLength(1);
  });

  it("caches the thumbprint sets (not the JWKS) for ttlMs: a cache hit makes no request", async () => {
    const [, , thumbprint] = ids("participant-a");
    await keystore.keyStatus(...ids("participant-a"));
    expect(store.writes).toHaveLength(1);
    expect(store.writes[0]!.ttlMs).toBe(TTL);
    expect(JSON.parse(store.writes[0]!.value)).toEqual({ active: [thumbprint], inactive: [] });
    // …and records which software statement the thumbprint belongs to, for `directory lookup <x5t#S256>`.
    const [org, ss] = ids("participant-a");
    expect(store.owners.map((w) => [w.key, JSON.parse(w.value)])).toEqual([[`thumbprint:${thumbprint}`, { organisationId: org, softwareStatementId: ss, status: "active" }]]);
    requests.length = 0;
    store.advance(TTL - 1);
    expect(await keystore.keyStatus(...ids("participant-a"))).toBe("active");
    expect(requests).toEqual([]);
    store.advance(1);
    expect(await keystore.keyStatus(...ids("participant-a"))).toBe("active");
    expect(requests).toHaveLength(2);
  });

  it("a cache shared with another replica is used: an entry written elsewhere answers without a request", async () => {
    const [org, ss, thumbprint] = ids("participant-a");
    await store.cache.cacheSet(`keystore:${org}:${ss}`, JSON.stringify({ active: [], inactive: [thumbprint] }), TTL);
    expect(await keystore.keyStatus(org, ss, thumbprint)).toBe("inactive");
    expect(requests).toEqual([]);
  });

  it("an unknown software statement (both JWKS 404) is remembered only for negativeTtlMs", async () => {
    await keystore.keyStatus(...ids("participant-unknown-org"));
    expect(store.writes.map((w) => w.ttlMs)).toEqual([NEGATIVE_TTL]);
    requests.length = 0;
    store.advance(NEGATIVE_TTL - 1);
    expect(await keystore.keyStatus(...ids("participant-unknown-org"))).toBe("unregistered");
    expect(requests).toEqual([]);
    store.advance(1);
    expect(await keystore.keyStatus(...ids("participant-unknown-org"))).toBe("unregistered");
    expect(requests.sort()).toEqual(jwksPaths("participant-unknown-org").sort());
  });

  it("a software statement with JWKS but not this key is cached for the full ttlMs", async () => {
    await keystore.keyStatus(...ids("participant-unregistered-key"));
    expect(store.writes.map((w) => w.ttlMs)).toEqual([TTL]);
  });

  // Certificate text is attacker-controlled: it must never shape the keystore URL (path traversal, SSRF).
  it.each([
    ["organisation id with ../", "../".repeat(12), "SS"],
    ["organisation id with ../ after a UUID", "ORG/../../../../etc/passwd", "SS"],
    ["percent-encoded traversal", "%2e%2e%2f".repeat(4), "SS"],
    ["software statement id with ../", "ORG", "../".repeat(12)],
    ["software statement id of 36 characters with a slash", "ORG", "0b8480dc-7b85-57e0-9cd8/48ee988d3eef"],
    ["software statement id too long", "ORG", "0b8480dc-7b85-57e0-9cd8-48ee988d3eef0"],
  ])("a hostile %s answers unregistered without any request", async (_case, org, ss) => {
    const [realOrg, realSs, thumbprint] = ids("participant-a");
    const status = await keystore.keyStatus(org === "ORG" ? realOrg : org, ss === "SS" ? realSs : ss, thumbprint);
    expect(status).toBe("unregistered");
    expect(requests).toEqual([]);
    expect(store.writes).toEqual([]);
  });
});

describe("organisation application keys (signed messages: <org>/application.jwks and its inactive/ twin)", () => {
  let pki: TestPkiManifest;
  let mock: MockDirectory;
  const requests: string[] = [];
  let store: ReturnType<typeof clockedCache>;
  let keystore: ReturnType<typeof createKeystore>;
  const COOLDOWN = 30_000;

  const key = (name: string) => pki.signingKeys[name]!;
  const org = () => key("participant-a").organisationId;
  const paths = (o: string) => [`/keystore/${o}/application.jwks`, `/keystore/${o}/inactive/application.jwks`].sort();

  beforeAll(async () => {
    pki = await loadTestPki(inject("pkiDir"));
    mock = await startMockDirectory({ fixtureDir: dirname(pki.directory.participants), onRequest: (r) => void requests.push(r.path) });
  });
  afterAll(() => mock.close());
  beforeEach(() => {
    requests.length = 0;
    store = clockedCache();
    keystore = createKeystore({ baseUrl: mock.keystoreUrl, cache: store.cache, ttlMs: TTL, negativeTtlMs: NEGATIVE_TTL, timeoutMs: 5_000, maxBytes: 256 * 1024, now: store.now, dispatcher, unknownKidCooldownMs: COOLDOWN });
  });

  it("an active key: its public JWK (no x5c, no private member), read from both sets once", async () => {
    const found = await keystore.applicationKey(org(), key("participant-a").kid);
    expect(found.status).toBe("active");
    const jwk = (found as { jwk: Record<string, unknown> }).jwk;
    expect(Object.keys(jwk).sort()).toEqual(["e", "kid", "kty", "n"]);
    expect(jwk.kid).toBe(key("participant-a").kid);
    expect(requests.sort()).toEqual(paths(org()));
  });

  it("a key only in inactive/application.jwks is inactive, never active", async () => {
    expect(await keystore.applicationKey(org(), key("participant-a-inactive").kid)).toEqual({ status: "inactive" });
  });

  it("another organisation's kid is unknown for this one", async () => {
    expect(await keystore.applicationKey(org(), key("participant-b").kid)).toEqual({ status: "unknown" });
  });

  it("an organisation without application keys (404) is remembered for negativeTtlMs", async () => {
    const other = pki.clients["participant-c"]!.organisationId!;
    expect(await keystore.applicationKey(other, "any")).toEqual({ status: "unknown" });
    expect(store.writes.map((w) => w.ttlMs)).toEqual([NEGATIVE_TTL]);
  });

  it("an unknown kid re-reads the organisation's keys, at most once per cooldown (a key added in the Directory is found; unknown kids cannot force a fetch each)", async () => {
    await keystore.applicationKey(org(), key("participant-a").kid);
    requests.length = 0;
    expect(await keystore.applicationKey(org(), "not-published")).toEqual({ status: "unknown" });
    expect(requests).toEqual([]);
    store.advance(COOLDOWN);
    expect(await keystore.applicationKey(org(), "not-published")).toEqual({ status: "unknown" });
    expect(requests.sort()).toEqual(paths(org()));
    requests.length = 0;
    expect(await keystore.applicationKey(org(), "still-not-published")).toEqual({ status: "unknown" });
    expect(requests).toEqual([]);
  });

  it("single-flight: 10 concurrent lookups make exactly 2 requests; a second replica reads them from the shared cache", async () => {
    const results = await Promise.all(Array.from({ length: 10 }, () => keystore.applicationKey(org(), key("participant-a").kid)));
    expect(results.map((r) => r.status)).toEqual(Array(10).fill("active"));
    expect(requests).toHaveLength(2);
    const replica = createKeystore({ baseUrl: mock.keystoreUrl, cache: store.cache, ttlMs: TTL, negativeTtlMs: NEGATIVE_TTL, timeoutMs: 5_000, maxBytes: 256 * 1024, now: store.now, dispatcher });
    expect((await replica.applicationKey(org(), key("participant-a").kid)).status).toBe("active");
    expect(requests).toHaveLength(2);
  });

  it.each([["../".repeat(12)], ["%2e%2e%2f".repeat(4)], ["not-a-uuid"]])("a hostile organisation id %s makes no request", async (hostile) => {
    expect(await keystore.applicationKey(hostile, key("participant-a").kid)).toEqual({ status: "unknown" });
    expect(requests).toEqual([]);
  });
});
