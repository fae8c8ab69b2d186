import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { inject } from "vitest";
import type { Organisation, Snapshot, SnapshotMeta } from "../../src/directory/types.js";

/** The run's shared Redis (`REDIS_URL`, or the `redis-server` test/setup/global.ts started). */
export function redisUrl(): string {
  return inject("redisUrl");
}

/** A key prefix no other test uses, so tests share one Redis without seeing each other's keys. */
export function uniquePrefix(): string {
  return `t:${randomBytes(6).toString("hex")}:`;
}

/** Deletes every key under `prefix` (tests clean up after themselves when `REDIS_URL` names a shared Redis). */
export async function deletePrefix(url: string, prefix: string): Promise<void> {
  const client = await rawRedis(url);
  try {
    let cursor = "0";
    do {
      const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      if (keys.length) await client.unlink(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    await client.quit();
  }
}

export { startRedisServer, type RedisServer } from "../../src/dev/redis-server.js";

// Directory-store fixtures: what the store tests publish and observe.

/** An organisation as the Directory parser produces it (lower-case id, CNPJ without punctuation). */
export function org(id: string, registrationNumber: string, status = "Active", name = `Org ${id.slice(0, 8)}`): Organisation {
  return { id, status, name, registrationNumber, roles: [{ role: "DADOS", status: "Active", domain: "Open Banking Brasil" }] };
}

export function snapshot(version: string, organisations: readonly Organisation[], fetchedAt = 1_700_000_000_000): Snapshot {
  const meta: SnapshotMeta = { version, fetchedAt, etag: `"${version}"`, lastModified: null, organisations: organisations.length, source: "https://directory.test/participants" };
  return { meta, organisations };
}

/** `count` organisations with distinct ids and CNPJs, each carrying `padding` bytes of name (a large publish). */
export function manyOrgs(count: number, tag: string, padding = 0): Organisation[] {
  return Array.from({ length: count }, (_, i) => {
    const n = String(i).padStart(8, "0");
    return org(`${n}-0000-4000-8000-${tag.padStart(12, "0")}`, `${String(10_000_000 + i)}000195`, "Active", `${tag} ${n} ${"x".repeat(padding)}`);
  });
}

/** Resolves with the first meta `store.onChange` reports that matches, or rejects after `ms`. */
export function nextChange(store: { onChange(l: (m: SnapshotMeta) => void): () => void }, match: (m: SnapshotMeta) => boolean, ms = 3_000): Promise<SnapshotMeta> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no matching change within ${ms} ms`));
    }, ms);
    const off = store.onChange((m) => {
      if (!match(m)) return;
      clearTimeout(timer);
      off();
      resolve(m);
    });
  });
}

/** A plain ioredis connection for inspecting and tampering with Redis behind a store's back. */
export async function rawRedis(url: string): Promise<Redis> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  return client;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `probe` every 25 ms until it returns true (a throw counts as false); rejects naming `what` after `ms`. */
export async function until(ms: number, what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      if (await probe()) return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}${last ? ` (last error: ${(last as Error).message})` : ""}`);
    await sleep(25);
  }
}
