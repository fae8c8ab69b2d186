import { afterEach, describe, expect, it } from "vitest";
import { openRedisConnection, type RedisConnection } from "../../src/redis/connection.js";
import { standaloneTarget } from "../../src/redis/target.js";
import { rawRedis, startRedisServer, type RedisServer } from "../helpers/redis.js";

/**
 * A server that turns into a replica under an open connection (a failover this connection has not noticed)
 * answers writes with READONLY: the write fails as a transient error — never retried on the replica, never
 * resent — and the connection is dropped and made again, so the next one reaches whatever is primary then.
 */
describe("READONLY from a demoted primary", () => {
  const servers: RedisServer[] = [];
  let conn: RedisConnection | undefined;
  afterEach(async () => {
    await conn?.close();
    await Promise.all(servers.splice(0).map((s) => s.kill()));
  });

  it("fails the write, reconnects, and writes again once the server is a primary", async () => {
    const [a, b] = [await startRedisServer(), await startRedisServer()];
    servers.push(a, b);
    conn = await openRedisConnection(standaloneTarget(a.url, 1_000), { user: "test", name: "readonly-test", connectTimeoutMs: 2_000, commandTimeoutMs: 1_000, subscriber: false });
    const admin = await rawRedis(a.url);
    try {
      expect(await conn.client.set("k", "1")).toBe("OK");
      await admin.call("REPLICAOF", "127.0.0.1", String(b.port));
      const reconnected = new Promise((resolve) => conn!.client.once("ready", resolve));
      await expect(conn.client.set("k", "2")).rejects.toThrow(/^READONLY/);
      await reconnected;
      await admin.call("REPLICAOF", "NO", "ONE");
      expect(await conn.client.set("k", "3")).toBe("OK");
      expect(await admin.get("k")).toBe("3");
    } finally {
      admin.disconnect();
    }
  });
});
