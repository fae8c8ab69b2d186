import { describe, expect, it } from "vitest";
import { redisTargetFor } from "../../src/redis/config.js";
import { keyspace } from "../../src/redis/keys.js";
import { describeTarget } from "../../src/redis/target.js";
import { issues, parse } from "../helpers/config.js";

/**
 * The top-level `redis` section: one description of how every user of Redis reaches it (standalone, Sentinel,
 * Cluster), the per-user url as the standalone shortcut, and the combinations refused as ambiguous, each error
 * naming its key.
 */

const base = (extra: Record<string, unknown> = {}) => ({
  listeners: [{ name: "edge", port: 8443, mode: "strict", tls: { cert: "c.pem", key: "k.pem", trustAnchors: ["a.pem"] } }],
  routes: [{ name: "open-banking", pathPrefix: "/open-banking/", upstream: "http://10.0.0.5:8080" }],
  ...extra,
});
const users = {
  directory: { preset: "production", store: { type: "redis", keyPrefix: "edge:" } },
  revocation: { store: { type: "redis" } },
  denyList: { keyPrefix: "edge:" },
};
const SENTINEL = { mode: "sentinel", sentinels: [{ host: "10.0.0.7", port: 26379 }, { host: "10.0.0.8", port: 26379 }], name: "ofb-edge" };
const CLUSTER = { mode: "cluster", nodes: [{ host: "10.0.1.1", port: 6379 }, { host: "10.0.1.2", port: 6379 }] };

describe("redis configuration", () => {
  it("each topology is one section every user refers to", () => {
    for (const redis of [{ mode: "standalone", url: "rediss://redis.internal:6380/2" }, SENTINEL, CLUSTER]) {
      const cfg = parse(base({ redis, ...users }));
      const targets = [
        redisTargetFor(cfg.redis, cfg.directory!.store as { url?: string; connectTimeoutMs: number }, "directory.store"),
        redisTargetFor(cfg.redis, cfg.revocation.store as { url?: string; connectTimeoutMs: number }, "revocation.store"),
        redisTargetFor(cfg.redis, cfg.denyList!, "denyList"),
      ];
      expect(targets.map((t) => t.mode)).toEqual([redis.mode, redis.mode, redis.mode]);
      expect(targets[0]).toEqual(targets[2]);
      expect(targets[0]).toMatchObject({ ...redis, connectTimeoutMs: 5_000 });
    }
    expect(describeTarget(redisTargetFor(parse(base({ redis: SENTINEL })).redis, { connectTimeoutMs: 1 }, "x"))).toBe("sentinel master set 'ofb-edge' via 10.0.0.7:26379,10.0.0.8:26379");
    expect(describeTarget(redisTargetFor(parse(base({ redis: CLUSTER })).redis, { connectTimeoutMs: 1 }, "x"))).toBe("cluster 10.0.1.1:6379,10.0.1.2:6379");
    // The shared time bounds reach every user; a user's own connectTimeoutMs stays how long its start-up waits.
    expect(redisTargetFor(parse(base({ redis: { ...CLUSTER, connectTimeoutMs: 800, commandTimeoutMs: 250 } })).redis, { connectTimeoutMs: 9_000 }, "x")).toMatchObject({ connectTimeoutMs: 800, commandTimeoutMs: 250 });
  });

  it("without a `redis` section a user's url (or REDIS_URL) is one standalone Redis, as before", () => {
    const cfg = parse(base({ denyList: { url: "redis://:pw@10.0.0.9:6379" } }));
    const target = redisTargetFor(cfg.redis, cfg.denyList!, "denyList");
    expect(target).toEqual({ mode: "standalone", url: "redis://:pw@10.0.0.9:6379", connectTimeoutMs: 5_000 });
    expect(describeTarget(target)).toBe("redis://:***@10.0.0.9:6379");
    const fromEnv = parse(base({ denyList: {}, revocation: { store: { type: "redis" } } }), { REDIS_URL: "redis://10.0.0.10:6379" });
    expect([fromEnv.denyList!.url, (fromEnv.revocation.store as { url?: string }).url]).toEqual(["redis://10.0.0.10:6379", "redis://10.0.0.10:6379"]);
  });

  it("a user's url next to a `redis` section is refused as ambiguous, naming the key; no address at all is refused too", () => {
    expect(issues(base({ redis: CLUSTER, denyList: { url: "redis://10.0.0.9:6379" }, revocation: { store: { type: "redis", url: "redis://10.0.0.9:6379" } } }))).toEqual([
      { path: "revocation.store.url", message: expect.stringContaining("the top-level `redis` section also describes how to reach Redis") },
      { path: "denyList.url", message: expect.stringContaining("keep one") },
    ]);
    expect(issues(base({ directory: users.directory }))).toEqual([{ path: "directory.store.url", message: expect.stringContaining("required (or set REDIS_URL, or describe Redis in the top-level `redis` section)") }]);
    expect(issues(base({ redis: { mode: "standalone" }, denyList: {} }))).toEqual([{ path: "redis.url", message: expect.stringContaining("required") }]);
  });

  it("REDIS_URL fills redis.url in standalone mode and is refused with Sentinel or Cluster; the secrets come from their variables", () => {
    const standalone = parse(base({ redis: { mode: "standalone" }, ...users }), { REDIS_URL: "redis://10.0.0.11:6379", OFB_EDGE_REDIS_PASSWORD: "s3cret" });
    expect(standalone.redis).toMatchObject({ mode: "standalone", url: "redis://10.0.0.11:6379", password: "s3cret" });
    // The users keep no url of their own: REDIS_URL went to the `redis` section.
    expect(standalone.denyList!.url).toBeUndefined();
    expect(issues(base({ redis: SENTINEL, ...users }), { REDIS_URL: "redis://10.0.0.11:6379" })).toEqual([{ path: "REDIS_URL", message: expect.stringContaining("redis.mode is 'sentinel'") }]);
    const sentinel = parse(base({ redis: SENTINEL }), { OFB_EDGE_REDIS_PASSWORD: "data-pw", OFB_EDGE_REDIS_SENTINEL_PASSWORD: "sentinel-pw" });
    expect(redisTargetFor(sentinel.redis, { connectTimeoutMs: 1 }, "x")).toMatchObject({ password: "data-pw", sentinelPassword: "sentinel-pw" });
    expect(issues(base({ redis: CLUSTER }), { OFB_EDGE_REDIS_SENTINEL_PASSWORD: "x" })).toEqual([{ path: "OFB_EDGE_REDIS_SENTINEL_PASSWORD", message: "set, but redis.mode is not sentinel" }]);
    expect(issues(base({ denyList: { url: "redis://x:6379" } }), { OFB_EDGE_REDIS_PASSWORD: "x" })).toEqual([{ path: "OFB_EDGE_REDIS_PASSWORD", message: "set, but the configuration has no `redis` section" }]);
  });

  it("credentials or TLS said twice, unknown keys and bad endpoints are refused at their paths", () => {
    expect(issues(base({ redis: { mode: "standalone", url: "redis://:pw@10.0.0.9:6379", password: "pw2" }, denyList: {} }))).toEqual([{ path: "redis.password", message: expect.stringContaining("carries a password too") }]);
    expect(issues(base({ redis: { mode: "standalone", url: "redis://user@10.0.0.9:6379", username: "u" }, denyList: {} }))).toEqual([{ path: "redis.username", message: expect.stringContaining("user name too") }]);
    expect(issues(base({ redis: { mode: "standalone", url: "redis://10.0.0.9:6379", tls: {} }, denyList: {} }))).toEqual([{ path: "redis.tls", message: expect.stringContaining("rediss://") }]);
    expect(issues(base({ redis: { ...SENTINEL, url: "redis://10.0.0.9:6379" } }))[0]!.path).toBe("redis");
    expect(issues(base({ redis: { ...CLUSTER, nodes: [] } }))[0]!.path).toBe("redis.nodes");
    expect(issues(base({ redis: { ...CLUSTER, nodes: [{ host: "10.0.1.1", port: 70000 }] } }))[0]!.path).toBe("redis.nodes[0].port");
    expect(issues(base({ redis: { mode: "replicated" } }))[0]!.path).toBe("redis.mode");
    expect(issues(base({ redis: CLUSTER, denyList: { keyPrefix: "{edge}:" } }))).toEqual([{ path: "denyList.keyPrefix", message: expect.stringContaining("hash tags") }]);
  });

  it("a relative TLS CA file resolves against the configuration file's folder", () => {
    expect(parse(base({ redis: { ...CLUSTER, tls: { ca: "redis-ca.pem" } } })).redis!.tls).toEqual({ ca: "/etc/ofb-edge/redis-ca.pem" });
  });
});

describe("key prefixes and hash tags", () => {
  it("keys start with the prefix; a group's keys share one hash tag; braces in a prefix or tag are refused", () => {
    const space = keyspace("edge:");
    expect(space.key("deny")).toBe("edge:deny");
    const group = space.group("directory");
    expect([group.key("current"), group.key("snap:v1:orgs"), group.prefix]).toEqual(["edge:{directory}:current", "edge:{directory}:snap:v1:orgs", "edge:{directory}:"]);
    expect(() => keyspace("{edge}:")).toThrow(/must not contain/);
    expect(() => keyspace("")).toThrow(/non-empty/);
    expect(() => space.group("")).toThrow(/non-empty/);
    expect(() => space.group("a}b")).toThrow(/free of/);
  });
});
