import { afterEach, describe, expect, it } from "vitest";
import { createMemoryIdempotencyStore } from "../../src/idempotency/memory-store.js";
import { createRedisIdempotencyStore } from "../../src/idempotency/redis-store.js";
import type { IdempotencyStore, StoredResponse } from "../../src/idempotency/store.js";
import { uniquePrefix, until } from "../helpers/redis.js";
import { redisTopologies } from "../helpers/redis-topologies.js";

/**
 * One contract for every idempotency store (unstorage's testDriver habit): the memory store, and Redis standalone,
 * Sentinel (claims acknowledged by the replica, WAIT) and Cluster. Two instances stand for two replicas sharing the
 * store (for memory: one instance, as the cluster primary serves every worker from one).
 */

const topologies = redisTopologies();
const ORG_A = "a0a0a0a0-1111-4222-8333-444455556666";
const ORG_B = "b0b0b0b0-1111-4222-8333-444455556666";
/** A body with every byte value, and header fields as stored. */
const RESPONSE: StoredResponse = { status: 201, headers: [["content-type", "application/jwt"], ["location", "/p/1"], ["cache-control", "no-store"], ["cache-control", "private"]], body: Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256)) };

type Open = () => Promise<[IdempotencyStore, IdempotencyStore]>;

const stores: { name: string; open: (track: (s: IdempotencyStore) => void, prefix: () => string) => Open }[] = [
  {
    name: "memory",
    open: (track) => async () => {
      const s = createMemoryIdempotencyStore({ maxEntries: 1_000 });
      track(s);
      return [s, s];
    },
  },
  ...topologies.map((t) => ({
    name: `Redis ${t.name}`,
    open: (track: (s: IdempotencyStore) => void, prefix: () => string) => async (): Promise<[IdempotencyStore, IdempotencyStore]> => {
      const one = () => createRedisIdempotencyStore({ redis: t.target(), keyPrefix: prefix(), connectTimeoutMs: 5_000, replicaAcks: t.name === "sentinel" ? 1 : 0 });
      const pair = [await one(), await one()] as [IdempotencyStore, IdempotencyStore];
      pair.forEach(track);
      return pair;
    },
  })),
];

describe.each(stores)("idempotency store contract: $name", ({ name, open: opener }) => {
  const open: IdempotencyStore[] = [];
  let prefix = "";
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
    const topology = topologies.find((t) => name === `Redis ${t.name}`);
    await topology?.cleanup(prefix);
  });
  const openPair = () => {
    prefix = uniquePrefix();
    return opener((s) => open.push(s), () => prefix)();
  };

  it("one claim wins; the same fingerprint then finds it in flight, another fingerprint conflicts; the completed response is replayed byte for byte on the other replica", async () => {
    const [a, b] = await openPair();
    const first = await a.claim(ORG_A, "key-1", "fp-1", 60_000);
    expect(first.kind).toBe("claimed");
    expect(await b.claim(ORG_A, "key-1", "fp-1", 60_000)).toEqual({ kind: "in-flight" });
    expect(await b.claim(ORG_A, "key-1", "fp-2", 60_000)).toEqual({ kind: "conflict" });
    if (first.kind !== "claimed") throw new Error("unreachable");
    expect(await a.complete(ORG_A, "key-1", first.token, RESPONSE, 60_000)).toBe(true);
    const replay = await b.claim(ORG_A, "key-1", "fp-1", 60_000);
    expect(replay.kind).toBe("replay");
    if (replay.kind !== "replay") throw new Error("unreachable");
    expect(replay.response.status).toBe(201);
    expect(replay.response.headers).toEqual(RESPONSE.headers);
    expect(replay.response.body.equals(RESPONSE.body)).toBe(true);
    expect(await b.claim(ORG_A, "key-1", "fp-2", 60_000)).toEqual({ kind: "conflict" });
    // Keys are per organisation; any text is a key.
    expect((await b.claim(ORG_B, "key-1", "fp-2", 60_000)).kind).toBe("claimed");
    expect((await b.claim(ORG_A, "{chave} com espaço ç", "fp-1", 60_000)).kind).toBe("claimed");
  });

  it("of many concurrent first requests on two replicas, exactly one is claimed", async () => {
    const [a, b] = await openPair();
    const outcomes = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).claim(ORG_A, "race", "fp", 60_000)));
    expect(outcomes.filter((o) => o.kind === "claimed")).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === "in-flight")).toHaveLength(39);
  });

  it("only the claim's token completes or frees it; a freed key is claimed again", async () => {
    const [a, b] = await openPair();
    const first = await a.claim(ORG_A, "k", "fp", 60_000);
    if (first.kind !== "claimed") throw new Error(`expected a claim, got ${first.kind}`);
    expect(await b.complete(ORG_A, "k", "not-the-token", RESPONSE, 60_000)).toBe(false);
    await b.release(ORG_A, "k", "not-the-token");
    expect(await b.claim(ORG_A, "k", "fp", 60_000)).toEqual({ kind: "in-flight" });
    await a.release(ORG_A, "k", first.token);
    const again = await b.claim(ORG_A, "k", "fp", 60_000);
    expect(again.kind).toBe("claimed");
    // The old token no longer holds the key.
    expect(await a.complete(ORG_A, "k", first.token, RESPONSE, 60_000)).toBe(false);
  });

  it("a claim whose replica died frees itself after claimTtlMs; a stored response after windowMs", async () => {
    const [a, b] = await openPair();
    expect((await a.claim(ORG_A, "dead", "fp", 150)).kind).toBe("claimed");
    await until(3_000, "the abandoned claim expires", async () => (await b.claim(ORG_A, "dead", "fp", 60_000)).kind === "claimed");
    const c = await a.claim(ORG_A, "window", "fp", 60_000);
    if (c.kind !== "claimed") throw new Error("unreachable");
    expect(await a.complete(ORG_A, "window", c.token, RESPONSE, 150)).toBe(true);
    expect((await b.claim(ORG_A, "window", "fp", 60_000)).kind).toBe("replay");
    await until(3_000, "the stored response expires", async () => (await b.claim(ORG_A, "window", "other-fp", 60_000)).kind === "claimed");
  });
});

describe("idempotency store: replica acknowledgements", () => {
  const open: IdempotencyStore[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });

  it("a Redis without replicas cannot acknowledge: claims still work, each counted as unreplicated, and the store stops waiting for a while", async () => {
    const standalone = topologies.find((t) => t.name === "standalone")!;
    const prefix = uniquePrefix();
    let unreplicated = 0;
    const s = await createRedisIdempotencyStore({ redis: standalone.target(), keyPrefix: prefix, connectTimeoutMs: 5_000, replicaAcks: 1, onUnreplicated: () => unreplicated++ });
    open.push(s);
    const started = performance.now();
    expect((await s.claim(ORG_A, "w1", "fp", 60_000)).kind).toBe("claimed");
    expect((await s.claim(ORG_A, "w2", "fp", 60_000)).kind).toBe("claimed");
    // The first waited for WAIT's time-out (250 ms); the second did not wait.
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(unreplicated).toBe(2);
    await standalone.cleanup(prefix);
  });
});
