import { pino } from "pino";
import { request } from "undici";
import { directorySchema, type DirectoryConfig } from "../src/config/schema.js";
import { parseJsonDocument, parseParticipants } from "../src/directory/document.js";
import { createMemoryStore } from "../src/directory/memory-store.js";
import { redisKeys } from "../src/directory/redis-keys.js";
import { createRedisStore } from "../src/directory/redis-store.js";
import { createDirectoryService } from "../src/directory/service.js";
import { createOutboundDispatcher } from "../src/net/dispatcher.js";
import type { SyncResult } from "../src/directory/sync.js";
import type { DirectoryStore, Organisation, Snapshot } from "../src/directory/types.js";
import { createLogger } from "../src/log/logger.js";
import type { FixtureClient, FixtureStatement } from "./directory-fixture.js";
import { latency, median, timed, type Latency } from "./latency.js";
import type { BenchRedis } from "./redis-server.js";

/** The product's outbound dispatcher, as the edge creates it (never undici's global one). */
const outbound = createOutboundDispatcher();

/**
 * The in-process half of bench/directory.ts: full syncs into each store, the Redis memory a snapshot takes,
 * and lookup latency, all in the benchmark's own process against the mock Directory (a child process) and
 * the private Redis.
 */

const KEY_PREFIX = "bench:";
const silent = createLogger({ level: "silent" }, pino.destination({ dest: "/dev/null", sync: true }));

function directoryConfig(urls: { participantsUrl: string; keystoreUrl: string }, redisUrl: string, requireRegisteredCertificate = true): DirectoryConfig {
  return directorySchema.parse({ ...urls, store: { type: "redis", url: redisUrl, keyPrefix: KEY_PREFIX }, requireRegisteredCertificate });
}

function published(result: SyncResult, store: string): Extract<SyncResult, { status: "published" }> {
  if (result.status !== "published") throw new Error(`sync into the ${store} store did not publish: ${JSON.stringify(result)}`);
  return result;
}

export interface SyncFigures {
  readonly memoryMs: readonly number[];
  readonly redisMs: readonly number[];
  /** `used_memory` after minus before each Redis sync, bytes. */
  readonly redisBytes: readonly number[];
  /** `MEMORY USAGE` of the snapshot's two hashes after the last sync, bytes. */
  readonly orgsHashBytes: number;
  readonly cnpjHashBytes: number;
  readonly documentBytes: number;
  readonly organisations: number;
}

/**
 * `runs` full syncs into each store (`createDirectoryService(…).syncOnce()`), alternating memory and Redis.
 * Every run starts from an empty store (Redis: FLUSHALL), so each one downloads, parses and publishes the whole
 * document rather than answering a conditional request with 304. `between` runs after each Redis sync with
 * the store still open (the profiler hook).
 */
export async function measureSyncs(urls: { participantsUrl: string; keystoreUrl: string }, redis: BenchRedis, runs: number, between?: { before(): Promise<void>; after(run: number): Promise<void> }): Promise<SyncFigures> {
  const config = directoryConfig(urls, redis.url);
  const memoryMs: number[] = [];
  const redisMs: number[] = [];
  const redisBytes: number[] = [];
  let last: Extract<SyncResult, { status: "published" }> | undefined;
  let hashes = { orgs: 0, cnpj: 0 };
  for (let run = 0; run < runs; run++) {
    {
      const service = createDirectoryService({ config, store: createMemoryStore(), logger: silent, now: Date.now, dispatcher: outbound });
      const t0 = performance.now();
      published(await service.syncOnce(), "memory");
      memoryMs.push(performance.now() - t0);
      await service.close();
    }
    await redis.admin.flushall();
    const store = await createRedisStore({ url: redis.url, keyPrefix: KEY_PREFIX });
    const service = createDirectoryService({ config, store, logger: silent, now: Date.now, dispatcher: outbound });
    try {
      const before = await redis.usedMemory();
      await between?.before();
      const t0 = performance.now();
      last = published(await service.syncOnce(), "Redis");
      redisMs.push(performance.now() - t0);
      await between?.after(run);
      redisBytes.push((await redis.usedMemory()) - before);
      const keys = redisKeys(KEY_PREFIX);
      const usage = async (key: string) => Number(await redis.admin.call("MEMORY", "USAGE", key, "SAMPLES", "0"));
      hashes = { orgs: await usage(keys.orgs(last.meta.version)), cnpj: await usage(keys.cnpj(last.meta.version)) };
    } finally {
      await service.close();
    }
  }
  return { memoryMs, redisMs, redisBytes, orgsHashBytes: hashes.orgs, cnpjHashBytes: hashes.cnpj, documentBytes: last!.bytes, organisations: last!.meta.organisations };
}

/** Median ms of each step of a sync, timed separately: where a slow sync spends its time. */
export interface SyncBreakdown {
  readonly downloadMs: number;
  readonly jsonParseMs: number;
  readonly validateMs: number;
  readonly publishMemoryMs: number;
  readonly publishRedisMs: number;
}

/** The steps of `attempt()` in src/directory/sync.ts, one by one, `runs` times; also returns the organisations. */
export async function measureSyncSteps(participantsUrl: string, redis: BenchRedis, runs: number): Promise<{ steps: SyncBreakdown; organisations: readonly Organisation[] }> {
  const t: Record<keyof SyncBreakdown, number[]> = { downloadMs: [], jsonParseMs: [], validateMs: [], publishMemoryMs: [], publishRedisMs: [] };
  let organisations: readonly Organisation[] = [];
  for (let run = 0; run < runs; run++) {
    let t0 = performance.now();
    const res = await request(participantsUrl, { reset: true, dispatcher: outbound });
    const text = await res.body.text();
    t.downloadMs.push(performance.now() - t0);
    t0 = performance.now();
    const raw = parseJsonDocument(text, participantsUrl);
    t.jsonParseMs.push(performance.now() - t0);
    t0 = performance.now();
    organisations = parseParticipants(raw);
    t.validateMs.push(performance.now() - t0);
    const snapshot = benchSnapshot(`steps-${run}`, organisations);
    t0 = performance.now();
    await createMemoryStore().publish(snapshot);
    t.publishMemoryMs.push(performance.now() - t0);
    await redis.admin.flushall();
    const store = await createRedisStore({ url: redis.url, keyPrefix: KEY_PREFIX });
    t0 = performance.now();
    await store.publish(snapshot);
    t.publishRedisMs.push(performance.now() - t0);
    await store.close();
  }
  const steps = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v)])) as unknown as SyncBreakdown;
  return { steps, organisations };
}

function benchSnapshot(version: string, organisations: readonly Organisation[]): Snapshot {
  return { meta: { version, fetchedAt: Date.now(), etag: null, lastModified: null, organisations: organisations.length, source: "bench" }, organisations };
}

export interface LookupFigures {
  /** Redis store, same organisation again (in-process LRU). */
  readonly inProcessHit: Latency;
  /** Redis store, each organisation's first lookup after a publish (one Redis round trip). */
  readonly redisHit: Latency;
  /** Memory store, same organisation again (a Map). */
  readonly memoryHit: Latency;
  /** `verify()` without the keystore check: in-process hit plus the status and role rules. */
  readonly verifyNoKeystore: Latency;
  /** `verify()` as configured by default: in-process hit plus the keystore's cached thumbprints (a Redis GET). */
  readonly verifyKeystoreCached: Latency;
  /** `verify()`, first time for a software statement: two JWKS GETs from the mock keystore, then cached in Redis. */
  readonly verifyKeystoreCold: Latency;
  readonly verifyOk: number;
}

/**
 * Lookup latency against a snapshot of `organisations` published into a fresh Redis store: a warm-up pass over
 * every organisation, then `passes` measured passes each after a new publish (which empties the in-process
 * cache), then `hits` repeated lookups of the client's organisation after its one miss.
 */
export async function measureLookups(
  urls: { participantsUrl: string; keystoreUrl: string },
  redis: BenchRedis,
  organisations: readonly Organisation[],
  client: FixtureClient & { readonly thumbprint: string },
  statements: readonly FixtureStatement[],
  o: { readonly passes: number; readonly hits: number; readonly coldStatements: number },
): Promise<LookupFigures> {
  await redis.admin.flushall();
  const store = await createRedisStore({ url: redis.url, keyPrefix: KEY_PREFIX });
  try {
    const ids = organisations.map((org) => org.id);
    const redisMicros: number[] = [];
    for (let pass = 0; pass <= o.passes; pass++) {
      await store.publish(benchSnapshot(`lookup-${pass}`, organisations));
      for (const id of ids) {
        let found: Organisation | null = null;
        const us = await timed(async () => (found = await store.organisation(id)));
        if (!found) throw new Error(`organisation ${id} not found in the Redis store`);
        if (pass > 0) redisMicros.push(us);
      }
    }
    const repeat = async (s: DirectoryStore) => {
      await s.organisation(client.organisationId);
      const micros: number[] = [];
      for (let i = 0; i < o.hits; i++) micros.push(await timed(() => s.organisation(client.organisationId)));
      return latency(micros);
    };
    const inProcessHit = await repeat(store);
    const memory = createMemoryStore();
    await memory.publish(benchSnapshot("memory", organisations));
    const memoryHit = await repeat(memory);

    const plain = createDirectoryService({ config: directoryConfig(urls, redis.url, false), store, logger: silent, now: Date.now, dispatcher: outbound });
    const full = createDirectoryService({ config: directoryConfig(urls, redis.url), store, logger: silent, now: Date.now, dispatcher: outbound });
    const verifyClient = (service: typeof full) => service.verify(client.organisationId, client.softwareStatementId, client.thumbprint, "DADOS");
    const verifySeries = async (service: typeof full) => {
      const first = await verifyClient(service);
      if (!first.ok) throw new Error(`verify() rejected the benchmark client: ${first.code} ${first.detail}`);
      const micros: number[] = [];
      for (let i = 0; i < o.hits; i++) micros.push(await timed(() => verifyClient(service)));
      return latency(micros);
    };
    const verifyNoKeystore = await verifySeries(plain);
    const verifyKeystoreCached = await verifySeries(full);

    // First statement of each organisation that passes the status and role rules, so verify() reaches the keystore.
    const seen = new Set<string>();
    const cold = statements.filter((s) => s.usable && s.thumbprint !== null && !seen.has(s.organisationId) && seen.add(s.organisationId)).slice(0, o.coldStatements);
    const coldMicros: number[] = [];
    let verifyOk = 0;
    for (const s of cold) {
      coldMicros.push(
        await timed(async () => {
          const verdict = await full.verify(s.organisationId, s.softwareStatementId, s.thumbprint!, "DADOS");
          if (verdict.ok) verifyOk++;
        }),
      );
    }
    return { inProcessHit, redisHit: latency(redisMicros), memoryHit, verifyNoKeystore, verifyKeystoreCached, verifyKeystoreCold: latency(coldMicros), verifyOk };
  } finally {
    await store.close();
  }
}
