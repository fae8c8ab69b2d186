import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { createRedisRevocationStore } from "../../src/revocation/redis-store.js";
import { createMemoryRevocationStore, type RevocationStore, type StoredCrl } from "../../src/revocation/store.js";
import { sleep, uniquePrefix } from "../helpers/redis.js";
import { redisTopologies } from "../helpers/redis-topologies.js";

/**
 * The RevocationStore contract (one suite for every implementation): memory, and Redis on each
 * topology — standalone, a Sentinel-managed primary and replica, a three-primary Redis Cluster.
 */

interface Harness {
  readonly store: RevocationStore;
  /** Another replica's store sharing this one's CRLs (for the memory store: the same store). */
  replica(): Promise<RevocationStore>;
  elapse(ms: number): Promise<void>;
  close(): Promise<void>;
}

const topologies = redisTopologies();

const implementations: { name: string; open: () => Promise<Harness> }[] = [
  {
    name: "memory",
    open: async () => {
      let t = 1_700_000_000_000;
      const store = createMemoryRevocationStore({ now: () => t });
      return { store, replica: async () => store, elapse: async (ms) => void (t += ms), close: () => store.close() };
    },
  },
  ...topologies.map((topology) => ({
    name: `redis ${topology.name}`,
    open: async (): Promise<Harness> => {
      const prefix = uniquePrefix();
      const open = () => createRedisRevocationStore({ redis: topology.target(), keyPrefix: prefix });
      const stores = [await open()];
      const replica = async () => {
        stores.push(await open());
        return stores.at(-1)!;
      };
      // Redis expires keys by its own clock: time passes for real.
      return { store: stores[0]!, replica, elapse: sleep, close: () => Promise.all(stores.map((s) => s.close())).then(() => topology.cleanup(prefix)) };
    },
  })),
];

const AC = "a".repeat(64);
const OTHER_AC = "b".repeat(64);

/** A CRL-shaped value: every byte value (binary safety) and some bulk. */
function crl(fetchedAt: number, etag: string | null = '"1"'): StoredCrl {
  const der = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(200_000)]);
  return { der, url: "http://acraiz.icpbrasil.gov.br/LCRacraiz.crl", fetchedAt, etag, lastModified: "Sat, 05 Dec 2026 10:00:00 GMT" };
}

/** Resolves with the first AC a listener of `store` hears, or rejects after 3 s. */
function nextAc(store: RevocationStore): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no change within 3 s")), 3_000);
    const off = store.onChange((ac) => {
      clearTimeout(timer);
      off();
      resolve(ac);
    });
  });
}

describe.each(implementations)("RevocationStore contract: $name store", ({ open }) => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  it("an AC whose CRL was never stored reads as null", async () => {
    h = await open();
    expect(await h.store.get(AC)).toBeNull();
  });

  it("a stored CRL reads back byte for byte with where it came from; a newer one replaces it", async () => {
    h = await open();
    const first = crl(1_700_000_000_000);
    await h.store.put(AC, first);
    const read = await h.store.get(AC);
    expect(Buffer.from(read!.der).equals(Buffer.from(first.der))).toBe(true);
    expect({ ...read, der: undefined }).toEqual({ ...first, der: undefined });
    const second = crl(1_700_000_060_000, null);
    await h.store.put(AC, second);
    const again = await h.store.get(AC);
    expect(Buffer.from(again!.der).equals(Buffer.from(second.der))).toBe(true);
    expect(again!.etag).toBeNull();
    expect(await h.store.get(OTHER_AC)).toBeNull();
  });

  it("a put is heard by every replica's listeners, naming the AC, until they unsubscribe", async () => {
    h = await open();
    const other = await h.replica();
    const heard = nextAc(other);
    await h.store.put(AC, crl(1_700_000_000_000));
    expect(await heard).toBe(AC);
    expect((await other.get(AC))?.url).toBe("http://acraiz.icpbrasil.gov.br/LCRacraiz.crl");
    const seen: (string | null)[] = [];
    const off = other.onChange((ac) => seen.push(ac));
    off();
    const last = nextAc(h.store);
    await h.store.put(OTHER_AC, crl(1_700_000_000_000));
    expect(await last).toBe(OTHER_AC);
    expect(seen).toEqual([]);
  });

  it("one download lock per AC across replicas, released only by its holder", async () => {
    h = await open();
    const other = await h.replica();
    const held = await h.store.tryLock(AC, 60_000);
    expect(held).not.toBeNull();
    expect(await other.tryLock(AC, 60_000)).toBeNull();
    const otherAc = await other.tryLock(OTHER_AC, 60_000);
    expect(otherAc).not.toBeNull();
    await held!.release();
    const next = await other.tryLock(AC, 60_000);
    expect(next).not.toBeNull();
    await held!.release();
    expect(await h.store.tryLock(AC, 60_000)).toBeNull();
    await Promise.all([next!.release(), otherAc!.release()]);
  });

  it("a lock expires, so a replica that died downloading cannot block the AC", async () => {
    h = await open();
    expect(await h.store.tryLock(AC, 200)).not.toBeNull();
    await h.elapse(300);
    expect(await h.store.tryLock(AC, 60_000)).not.toBeNull();
  });
});
