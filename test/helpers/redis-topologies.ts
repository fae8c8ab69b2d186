import { afterAll, beforeAll } from "vitest";
import { standaloneTarget, type RedisTarget } from "../../src/redis/target.js";
import { startRedisCluster, type RedisClusterUnderTest } from "./redis-cluster.js";
import { deletePrefix, redisUrl } from "./redis.js";
import { startRedisSentinel, type RedisSentinelUnderTest } from "./redis-sentinel.js";

/** One way of running Redis that every Redis user of the edge must work on unchanged. */
export interface RedisTopology {
  readonly name: "standalone" | "sentinel" | "cluster";
  /** How to reach it (valid once the file's `beforeAll` has run). */
  target(): RedisTarget;
  /** Deletes what a test wrote under `prefix` (the file's own Sentinel set and cluster are simply stopped). */
  cleanup(prefix: string): Promise<void>;
}

/**
 * The three topologies for one test file: the run's shared standalone Redis, and a primary + replica + Sentinel
 * set and a three-primary Redis Cluster started for this file (in `beforeAll`, stopped in `afterAll`; about two
 * seconds, most of it Redis Cluster's own wait before a new primary takes writes). Call at the top of the file.
 */
export function redisTopologies(): readonly RedisTopology[] {
  let cluster: RedisClusterUnderTest | undefined;
  let sentinel: RedisSentinelUnderTest | undefined;
  beforeAll(async () => {
    [cluster, sentinel] = await Promise.all([startRedisCluster(), startRedisSentinel()]);
  });
  afterAll(async () => {
    await Promise.all([cluster?.stop(), sentinel?.stop()]);
  });
  const started = <T>(x: T | undefined): T => {
    if (x === undefined) throw new Error("redisTopologies(): used before its beforeAll ran");
    return x;
  };
  return [
    { name: "standalone", target: () => standaloneTarget(redisUrl(), 5_000), cleanup: (prefix) => deletePrefix(redisUrl(), prefix) },
    { name: "sentinel", target: () => started(sentinel).target, cleanup: async () => undefined },
    { name: "cluster", target: () => started(cluster).target, cleanup: async () => undefined },
  ];
}
