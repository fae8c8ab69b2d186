import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import type { RedisTarget } from "../../src/redis/target.js";
import { rawRedis, startRedisServer, until, type RedisServer } from "./redis.js";

/** A primary, its replica and a Sentinel watching them: real `redis-server` processes started for one test file. */
export interface RedisSentinelUnderTest {
  /** The master set's name. */
  readonly name: string;
  readonly sentinel: RedisServer;
  /** The two data nodes; which one is the primary changes with a failover ({@link primary}). */
  readonly nodes: readonly RedisServer[];
  /** How the edge reaches it (`redis` section, mode sentinel). */
  readonly target: RedisTarget;
  /** The node the Sentinel names as primary now. */
  primary(): Promise<RedisServer>;
  /** Resolves with the new primary once the Sentinel names another node than `old` (`+switch-master`). */
  promotedFrom(old: RedisServer): Promise<RedisServer>;
  stop(): Promise<void>;
}

/** The Sentinel declares the primary down after this long without a valid reply (`down-after-milliseconds`). */
const DOWN_AFTER_MS = 400;

/**
 * Starts a primary, a replica of it and one Sentinel (quorum 1) on free ports, and waits until the replica is in
 * sync and the Sentinel knows both: a fraction of a second. With `down-after-milliseconds` 400 a failover after the
 * primary dies takes one to three seconds (the Sentinel adds a random delay of up to one second before it
 * starts one).
 */
export async function startRedisSentinel(name = "ofb-edge-test"): Promise<RedisSentinelUnderTest> {
  const dir = await mkdtemp(join(tmpdir(), "ofb-edge-redis-sentinel-"));
  const servers: RedisServer[] = [];
  const admins: Redis[] = [];
  const stop = async () => {
    for (const a of admins) a.disconnect();
    // A node a test froze (SIGSTOP) is resumed first, so that it can be killed and reaped.
    for (const n of servers) n.thaw();
    await Promise.all(servers.map((s) => s.kill()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    // No 5 s wait for more replicas before the first full sync (repl-diskless-sync-delay).
    const primary = await startRedisServer({ args: ["--repl-diskless-sync-delay", "0"] });
    servers.push(primary);
    const replica = await startRedisServer({ args: ["--replicaof", "127.0.0.1", String(primary.port)] });
    servers.push(replica);
    const replicaAdmin = await rawRedis(replica.url);
    // The Sentinel learns replicas from the primary's INFO, which it reads at once and then every 10 s: start it
    // only once the replica is attached, so it knows the replica from the start.
    await until(10_000, "the replica is in sync with the primary", async () => /master_link_status:up/.test(await replicaAdmin.info("replication"))).finally(() => replicaAdmin.disconnect());
    const conf = join(dir, "sentinel.conf");
    await writeFile(
      conf,
      [
        `sentinel monitor ${name} 127.0.0.1 ${primary.port} 1`,
        `sentinel down-after-milliseconds ${name} ${DOWN_AFTER_MS}`,
        `sentinel failover-timeout ${name} 5000`,
        `sentinel parallel-syncs ${name} 1`,
        "",
      ].join("\n"),
    );
    const sentinel = await startRedisServer({ configFile: conf, args: ["--sentinel", "--dir", dir] });
    servers.push(sentinel);
    const sentinelAdmin = await rawRedis(sentinel.url);
    admins.push(sentinelAdmin);
    await until(10_000, "the Sentinel knows the primary and its replica", async () => {
      const replicas = (await sentinelAdmin.call("SENTINEL", "REPLICAS", name)) as string[][];
      return replicas.some((fields) => fields.includes(String(replica.port)) && !/s_down|disconnected/.test(fields[fields.indexOf("flags") + 1] ?? ""));
    });

    const nodes = [primary, replica];
    const primaryNow = async () => {
      const [, port] = (await sentinelAdmin.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", name)) as [string, string];
      const node = nodes.find((n) => n.port === Number(port));
      if (!node) throw new Error(`the Sentinel names an unknown primary on port ${port}`);
      return node;
    };
    const promotedFrom = async (old: RedisServer) => {
      let promoted: RedisServer | undefined;
      await until(15_000, "the Sentinel promotes the replica", async () => {
        promoted = await primaryNow();
        return promoted !== old;
      });
      return promoted!;
    };
    return {
      name,
      sentinel,
      nodes,
      target: { mode: "sentinel", sentinels: [{ host: "127.0.0.1", port: sentinel.port }], name, connectTimeoutMs: 2_000 },
      primary: primaryNow,
      promotedFrom,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
