import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { freeTcpPort } from "../../src/http/listen.js";
import type { RedisTarget } from "../../src/redis/target.js";
import { rawRedis, startRedisServer, until, type RedisServer } from "./redis.js";

/** A Redis Cluster of real `redis-server` processes started for one test file. */
export interface RedisClusterUnderTest {
  /** Primaries, each serving a third of the slots (0–5460, 5461–10922, 10923–16383). */
  readonly servers: readonly RedisServer[];
  /** How the edge reaches it (`redis` section, mode cluster), naming every node. */
  readonly target: RedisTarget;
  stop(): Promise<void>;
}

const SLOT_RANGES = [
  [0, 5460],
  [5461, 10922],
  [10923, 16383],
] as const;

/**
 * Starts three primaries (no replicas) with cluster mode on, assigns the slots and introduces the nodes to each
 * other over the cluster bus (`CLUSTER ADDSLOTSRANGE`, `CLUSTER MEET`: what `redis-cli --cluster create` does, so
 * no redis-cli is needed), then waits until every node reports `cluster_state:ok` with all 16 384 slots served.
 * Takes about two seconds: a new primary waits that long before it takes writes.
 */
export async function startRedisCluster(): Promise<RedisClusterUnderTest> {
  const dir = await mkdtemp(join(tmpdir(), "ofb-edge-redis-cluster-"));
  const servers: RedisServer[] = [];
  const admins: Redis[] = [];
  const stop = async () => {
    for (const a of admins) a.disconnect();
    await Promise.all(servers.map((s) => s.kill()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const busPorts = await Promise.all(SLOT_RANGES.map(() => freeTcpPort()));
    servers.push(
      ...(await Promise.all(
        busPorts.map((bus, i) =>
          startRedisServer({
            args: ["--cluster-enabled", "yes", "--cluster-config-file", `nodes-${i}.conf`, "--cluster-port", String(bus), "--cluster-node-timeout", "2000", "--dir", dir],
          }),
        ),
      )),
    );
    admins.push(...(await Promise.all(servers.map((s) => rawRedis(s.url)))));
    await Promise.all(admins.map((a, i) => a.call("CLUSTER", "ADDSLOTSRANGE", String(SLOT_RANGES[i]![0]), String(SLOT_RANGES[i]![1]))));
    for (const [i, s] of servers.entries()) if (i > 0) await admins[0]!.call("CLUSTER", "MEET", "127.0.0.1", String(s.port), String(busPorts[i]));
    await until(15_000, "the Redis Cluster reports cluster_state:ok on every node", async () => {
      const infos = await Promise.all(admins.map((a) => a.call("CLUSTER", "INFO") as Promise<string>));
      return infos.every((info) => /cluster_state:ok/.test(info) && /cluster_known_nodes:3\b/.test(info) && /cluster_slots_ok:16384\b/.test(info));
    });
    // Tests kill nodes: no set-up connection may linger and reconnect to one.
    for (const a of admins.splice(0)) a.disconnect();
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    servers,
    target: { mode: "cluster", nodes: servers.map((s) => ({ host: "127.0.0.1", port: s.port })), connectTimeoutMs: 2_000 },
    stop,
  };
}
