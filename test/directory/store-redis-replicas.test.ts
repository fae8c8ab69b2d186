import type { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { createRedisStore } from "../../src/directory/redis-store.js";
import type { DirectoryStore } from "../../src/directory/types.js";
import { deletePrefix, nextChange, org, rawRedis, redisUrl, snapshot, uniquePrefix } from "../helpers/redis.js";

// Replicas share one Redis snapshot and keep a small in-process cache in front of it (docs/architecture.md §Directory).
describe("Redis directory store: replicas sharing one prefix", () => {
  const open: DirectoryStore[] = [];
  const prefixes = new Set<string>();
  let raw: Redis | undefined;
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
    await raw?.quit();
    raw = undefined;
    for (const prefix of prefixes) await deletePrefix(redisUrl(), prefix);
    prefixes.clear();
  });
  async function replica(prefix: string): Promise<DirectoryStore> {
    const store = await createRedisStore({ url: redisUrl(), keyPrefix: prefix });
    open.push(store);
    prefixes.add(prefix);
    return store;
  }

  const A_ORG = org("1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d", "33444555000166");
  const B_ORG = org("2c3d4e5f-6071-4b8c-9d0e-1f2a3b4c5d6e", "44555666000177");
  const v1 = snapshot("v1", [A_ORG, B_ORG]);

  it("a publish on one replica reaches the other through pub/sub, without it re-reading Redis", async () => {
    const prefix = uniquePrefix();
    const [a, b] = [await replica(prefix), await replica(prefix)];
    const heard = nextChange(b, (m) => m.version === "v1");
    await a.publish(v1);
    expect(await heard).toEqual(v1.meta);
    expect(b.current()).toEqual(v1.meta);
    const confirmed = nextChange(b, (m) => m.fetchedAt === v1.meta.fetchedAt + 5_000);
    await a.confirm("v1", v1.meta.fetchedAt + 5_000);
    expect((await confirmed).version).toBe("v1");
    expect(b.current()?.fetchedAt).toBe(v1.meta.fetchedAt + 5_000);
  });

  it("a replica started after a publish serves the current snapshot at once", async () => {
    const prefix = uniquePrefix();
    await (await replica(prefix)).publish(v1);
    const late = await replica(prefix);
    expect(late.current()).toEqual(v1.meta);
    expect(await late.organisationsByCnpj("44.555.666/0001-77")).toEqual([B_ORG]);
  });

  it("repeated lookups are answered in-process; a publish elsewhere drops that cache so v2 is read as v2", async () => {
    const prefix = uniquePrefix();
    const [a, b] = [await replica(prefix), await replica(prefix)];
    raw = await rawRedis(redisUrl());
    const first = nextChange(b, (m) => m.version === "v1");
    await a.publish(v1);
    await first;
    const unknownId = "3d4e5f60-7182-4c9d-8e0f-2a3b4c5d6e7f";
    expect(await b.organisation(A_ORG.id)).toEqual(A_ORG);
    expect(await b.organisation(unknownId)).toBeNull();
    expect(await b.organisationsByCnpj("44555666")).toEqual([B_ORG]);

    // Change v1 behind the replicas' back: B keeps answering from memory, proving no round trip is made.
    await raw.hset(`${prefix}{directory}:snap:v1:orgs`, A_ORG.id.toLowerCase(), JSON.stringify({ ...A_ORG, name: "tampered" }));
    await raw.hset(`${prefix}{directory}:snap:v1:orgs`, unknownId, JSON.stringify(org(unknownId, "55666777000188")));
    expect(await b.organisation(A_ORG.id)).toEqual(A_ORG);
    expect(await b.organisation(unknownId)).toBeNull();

    const withdrawn = { ...A_ORG, status: "Withdrawn" };
    const newcomer = org(unknownId, "55666777000188");
    const v2 = snapshot("v2", [withdrawn, newcomer], v1.meta.fetchedAt + 60_000);
    const heard = nextChange(b, (m) => m.version === "v2");
    await a.publish(v2);
    // The invalidation arrives as a message: B learns of v2 without calling refreshCurrent.
    expect(await heard).toEqual(v2.meta);
    expect(b.current()).toEqual(v2.meta);
    expect(await b.organisation(A_ORG.id)).toEqual(withdrawn);
    expect(await b.organisation(unknownId)).toEqual(newcomer);
    expect(await b.organisationsByCnpj("44555666")).toEqual([]);
  });

  it("keys follow the documented layout: v2 is permanent, v1 is retired with a short TTL, nothing else is left", async () => {
    const prefix = uniquePrefix();
    const a = await replica(prefix);
    raw = await rawRedis(redisUrl());
    await a.publish(v1);
    await a.publish(snapshot("v2", [A_ORG], v1.meta.fetchedAt + 1));
    expect(JSON.parse((await raw.get(`${prefix}{directory}:current`))!)).toMatchObject({ version: "v2" });
    expect(await raw.pttl(`${prefix}{directory}:snap:v2:orgs`)).toBe(-1);
    expect(await raw.pttl(`${prefix}{directory}:snap:v2:cnpj`)).toBe(-1);
    const retiring = await raw.pttl(`${prefix}{directory}:snap:v1:orgs`);
    expect(retiring).toBeGreaterThan(0);
    expect(retiring).toBeLessThanOrEqual(60_000);
    expect(JSON.parse((await raw.hget(`${prefix}{directory}:snap:v2:cnpj`, "33444555"))!)).toEqual([A_ORG.id]);
    expect((await raw.keys(`${prefix}*`)).sort()).toEqual([`${prefix}{directory}:current`, `${prefix}{directory}:seq`, `${prefix}{directory}:snap:v1:cnpj`, `${prefix}{directory}:snap:v1:orgs`, `${prefix}{directory}:snap:v2:cnpj`, `${prefix}{directory}:snap:v2:orgs`]);
  });

  it("a lock held on one replica is not available on another", async () => {
    const prefix = uniquePrefix();
    const [a, b] = [await replica(prefix), await replica(prefix)];
    const held = await a.tryLock("directory-sync", 60_000);
    expect(held).not.toBeNull();
    expect(await b.tryLock("directory-sync", 60_000)).toBeNull();
    await held!.release();
    expect(await b.tryLock("directory-sync", 60_000)).not.toBeNull();
  });
});
