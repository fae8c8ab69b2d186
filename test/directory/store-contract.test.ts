import { afterEach, describe, expect, it } from "vitest";
import { createMemoryStore } from "../../src/directory/memory-store.js";
import { createRedisStore } from "../../src/directory/redis-store.js";
import type { DirectoryStore, SnapshotMeta } from "../../src/directory/types.js";
import { deletePrefix, nextChange, org, redisUrl, sleep, snapshot, uniquePrefix } from "../helpers/redis.js";
import { redisTopologies } from "../helpers/redis-topologies.js";

/** A store under test, a way to let time pass for its expiring entries, and its clean-up. */
interface Harness {
  readonly store: DirectoryStore;
  elapse(ms: number): Promise<void>;
  /** Another replica's store sharing this one's snapshot (for the memory store: the same store). */
  replica(): Promise<DirectoryStore>;
  close(): Promise<void>;
}

const topologies = redisTopologies();

const implementations: { name: string; open: () => Promise<Harness> }[] = [
  {
    name: "memory",
    open: async () => {
      let t = 1_700_000_000_000;
      const store = createMemoryStore({ now: () => t });
      return { store, elapse: async (ms) => void (t += ms), replica: async () => store, close: () => store.close() };
    },
  },
  {
    name: "redis",
    open: async () => {
      const prefix = uniquePrefix();
      const store = await createRedisStore({ url: redisUrl(), keyPrefix: prefix });
      const replicas: DirectoryStore[] = [];
      // Redis expires keys by its own clock: time passes for real.
      const close = async () => {
        await Promise.all([store, ...replicas].map((s) => s.close()));
        await deletePrefix(redisUrl(), prefix);
      };
      const replica = async () => {
        replicas.push(await createRedisStore({ url: redisUrl(), keyPrefix: prefix }));
        return replicas.at(-1)!;
      };
      return { store, elapse: sleep, replica, close };
    },
  },
  // The same store on a Sentinel-managed primary and replica, and on a three-primary Redis Cluster.
  ...topologies
    .filter((t) => t.name !== "standalone")
    .map((t) => ({
      name: `redis ${t.name}`,
      open: async (): Promise<Harness> => {
        const prefix = uniquePrefix();
        const open = () => createRedisStore({ redis: t.target(), keyPrefix: prefix });
        const stores = [await open()];
        const replica = async () => {
          stores.push(await open());
          return stores.at(-1)!;
        };
        return { store: stores[0]!, elapse: sleep, replica, close: () => Promise.all(stores.map((s) => s.close())).then(() => t.cleanup(prefix)) };
      },
    })),
];

const BANK = org("5f69111d-1a6e-4d3b-9f45-0a6d3c2b1e01", "12345678000195");
const BANK_BRANCH = org("5f69111d-1a6e-4d3b-9f45-0a6d3c2b1e02", "12345678000276");
// Most entries of the 2021 production `/participants` hold only the 8-character CNPJ root.
const ROOT_ONLY = org("7a8b9c0d-2b3c-4d5e-8f60-718293a4b5c6", "87654321");
// Alphanumeric CNPJ (letters in the first 12 positions), stored upper-case.
const ALPHANUMERIC = org("9c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5", "AB12CD34000195");
const V1 = snapshot("v1", [BANK, BANK_BRANCH, ROOT_ONLY, ALPHANUMERIC]);

describe.each(implementations)("DirectoryStore contract: $name store", ({ open }) => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  it("an empty store has no snapshot and finds nothing (the check stage then fails closed)", async () => {
    h = await open();
    expect(h.store.current()).toBeNull();
    expect(await h.store.refreshCurrent()).toBeNull();
    expect(await h.store.organisation(BANK.id)).toBeNull();
    expect(await h.store.organisationsByCnpj(BANK.registrationNumber)).toEqual([]);
  });

  it("publish makes a snapshot current; organisations are found by id in any letter case", async () => {
    h = await open();
    await h.store.publish(V1);
    expect(h.store.current()).toEqual(V1.meta);
    expect(await h.store.refreshCurrent()).toEqual(V1.meta);
    expect(await h.store.organisation(BANK.id)).toEqual(BANK);
    expect(await h.store.organisation(BANK.id.toUpperCase())).toEqual(BANK);
    expect(await h.store.organisation("00000000-0000-4000-8000-000000000000")).toBeNull();
  });

  it("a certificate CNPJ finds its organisation by full value, root, punctuation or lower-case letters (2021 production data)", async () => {
    h = await open();
    await h.store.publish(V1);
    const byCnpj = async (q: string) => (await h.store.organisationsByCnpj(q)).map((o) => o.id).sort();
    const bank = [BANK.id, BANK_BRANCH.id].sort();
    // Each organisation once, although it is indexed under both its CNPJ and its root.
    expect(await byCnpj("12345678")).toEqual(bank);
    expect(await byCnpj("12.345.678/0001-95")).toEqual(bank);
    // A branch CNPJ shares the head office's root: the same legal entity.
    expect(await byCnpj("12345678000999")).toEqual(bank);
    // A 2021-style entry that holds only the root matches the full CNPJ in a certificate.
    expect(await byCnpj("87654321000100")).toEqual([ROOT_ONLY.id]);
    expect(await byCnpj("87.654.321")).toEqual([ROOT_ONLY.id]);
    expect(await byCnpj("ab.12c.d34/0001-95")).toEqual([ALPHANUMERIC.id]);
    expect(await h.store.organisationsByCnpj("ab12cd34")).toEqual([ALPHANUMERIC]);
    expect(await byCnpj("11222333000181")).toEqual([]);
    expect(await byCnpj("")).toEqual([]);
    expect(await byCnpj("not a cnpj")).toEqual([]);
  });

  it("the OFB sandbox's malformed registration number (13.353.236/001-89) is found by its root, its digits and as printed", async () => {
    h = await open();
    const sandbox = org("b961c4eb-509d-4edf-afeb-35642b38185d", "1335323600189");
    const nineCharacters = org("1c2d3e4f-5a6b-4c7d-8e9f-a0b1c2d3e4f5", "223344556");
    await h.store.publish(snapshot("sandbox", [sandbox, nineCharacters, ROOT_ONLY]));
    const byCnpj = async (q: string) => (await h.store.organisationsByCnpj(q)).map((o) => o.id).sort();
    // Root, the certificate's 13-digit serialNumber, the Directory's printed form: the same organisation.
    expect(await byCnpj("13353236")).toEqual([sandbox.id]);
    expect(await byCnpj("1335323600189")).toEqual([sandbox.id]);
    expect(await byCnpj("13.353.236/001-89")).toEqual([sandbox.id]);
    // A full CNPJ of the same root finds it too (same legal entity), as for 14-character entries.
    expect(await byCnpj("13353236000189")).toEqual([sandbox.id]);
    expect(await byCnpj("22334455")).toEqual([nineCharacters.id]);
    expect(await byCnpj("133532")).toEqual([]);
    // A 13-character query finds its own entry and a root-only entry of its root.
    const rootEntry = org("2d3e4f5a-6b7c-4d8e-9fa0-b1c2d3e4f5a6", "13353236");
    await h.store.publish(snapshot("sandbox-2", [sandbox, rootEntry], 1_700_000_060_000));
    expect(await byCnpj("1335323600189")).toEqual([sandbox.id, rootEntry.id].sort());
  });

  it("a second publish replaces the first completely: a withdrawn-from-the-document organisation is gone", async () => {
    h = await open();
    await h.store.publish(V1);
    // Looked up under v1 first, so no answer cached for v1 may leak into v2.
    expect(await h.store.organisation(BANK.id)).toEqual(BANK);
    expect(await h.store.organisationsByCnpj("87654321")).toEqual([ROOT_ONLY]);
    const rootWithdrawn = { ...ROOT_ONLY, status: "Withdrawn" };
    const newcomer = org("0e1f2a3b-4c5d-4e6f-8a7b-c8d9e0f1a2b3", "11222333000181");
    const v2 = snapshot("v2", [rootWithdrawn, newcomer], V1.meta.fetchedAt + 60_000);
    await h.store.publish(v2);
    expect(h.store.current()).toEqual(v2.meta);
    expect(await h.store.organisation(BANK.id)).toBeNull();
    expect(await h.store.organisationsByCnpj("12345678000195")).toEqual([]);
    expect(await h.store.organisationsByCnpj("87654321")).toEqual([rootWithdrawn]);
    expect(await h.store.organisation(newcomer.id)).toEqual(newcomer);
  });

  it("publishing the version that is already current is refused instead of rewriting the live snapshot", async () => {
    h = await open();
    await h.store.publish(V1);
    await expect(h.store.publish(snapshot("v1", [BANK]))).rejects.toThrow(/already current/);
    expect(await h.store.organisation(ROOT_ONLY.id)).toEqual(ROOT_ONLY);
  });

  it("confirm records a 304 for the current snapshot only, keeping its validators", async () => {
    h = await open();
    await h.store.publish(V1);
    await h.store.confirm("v1", V1.meta.fetchedAt + 1_000);
    expect(h.store.current()).toEqual({ ...V1.meta, fetchedAt: V1.meta.fetchedAt + 1_000 });
    expect(await h.store.refreshCurrent()).toEqual({ ...V1.meta, fetchedAt: V1.meta.fetchedAt + 1_000 });
    await h.store.confirm("v0", V1.meta.fetchedAt + 9_000);
    const v2 = snapshot("v2", [BANK], V1.meta.fetchedAt + 2_000);
    await h.store.publish(v2);
    // A confirmation of a snapshot that is no longer current must not make the new one look fresher.
    await h.store.confirm("v1", V1.meta.fetchedAt + 9_000);
    expect(h.store.current()).toEqual(v2.meta);
    expect(await h.store.refreshCurrent()).toEqual(v2.meta);
  });

  it("onChange tells listeners about every publish and confirm until they unsubscribe", async () => {
    h = await open();
    const seen: SnapshotMeta[] = [];
    const off = h.store.onChange((m) => seen.push(m));
    await h.store.publish(V1);
    await h.store.confirm("v1", V1.meta.fetchedAt + 1_000);
    await h.store.confirm("stale", V1.meta.fetchedAt + 2_000);
    expect(seen).toEqual([V1.meta, { ...V1.meta, fetchedAt: V1.meta.fetchedAt + 1_000 }]);
    off();
    await h.store.publish(snapshot("v2", [BANK]));
    expect(seen).toHaveLength(2);
  });

  it("the shared cache answers until the entry's TTL has passed", async () => {
    h = await open();
    expect(await h.store.cacheGet("jwks:a")).toBeNull();
    await h.store.cacheSet("jwks:a", '{"keys":[]}', 200);
    await h.store.cacheSet("jwks:b", "long-lived", 60_000);
    expect(await h.store.cacheGet("jwks:a")).toBe('{"keys":[]}');
    await h.elapse(300);
    expect(await h.store.cacheGet("jwks:a")).toBeNull();
    expect(await h.store.cacheGet("jwks:b")).toBe("long-lived");
    await expect(h.store.cacheSet("jwks:c", "x", 0)).rejects.toThrow(/ttlMs/);
  });

  it("only one holder gets the sync lock until it releases it, and a non-holder's release does nothing", async () => {
    h = await open();
    const first = await h.store.tryLock("directory-sync", 60_000);
    expect(first).not.toBeNull();
    expect(await h.store.tryLock("directory-sync", 60_000)).toBeNull();
    expect(await h.store.tryLock("other", 60_000)).not.toBeNull();
    await first!.release();
    const second = await h.store.tryLock("directory-sync", 60_000);
    expect(second).not.toBeNull();
    // The first holder releasing again must not free the lock the second holder now has.
    await first!.release();
    expect(await h.store.tryLock("directory-sync", 60_000)).toBeNull();
    await second!.release();
  });

  it("a lock expires, so a replica that died holding it cannot stop the sync forever", async () => {
    h = await open();
    const crashed = await h.store.tryLock("directory-sync", 200);
    expect(crashed).not.toBeNull();
    await h.elapse(300);
    const next = await h.store.tryLock("directory-sync", 60_000);
    expect(next).not.toBeNull();
    await crashed!.release();
    expect(await h.store.tryLock("directory-sync", 60_000)).toBeNull();
  });

  it("another replica hears a publish and a confirmation, and reads the same organisations", async () => {
    h = await open();
    const other = await h.replica();
    const heard = nextChange(other, (m) => m.version === "v1");
    await h.store.publish(V1);
    expect(await heard).toEqual(V1.meta);
    expect(await other.organisationsByCnpj("12.345.678/0001-95")).toEqual(expect.arrayContaining([BANK, BANK_BRANCH]));
    const confirmed = nextChange(other, (m) => m.fetchedAt === V1.meta.fetchedAt + 5_000);
    await h.store.confirm("v1", V1.meta.fetchedAt + 5_000);
    expect((await confirmed).version).toBe("v1");
    expect(await other.tryLock("directory-sync", 60_000)).not.toBeNull();
    expect(await h.store.tryLock("directory-sync", 60_000)).toBeNull();
  });
});

