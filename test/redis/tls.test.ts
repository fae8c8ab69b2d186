import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisStore } from "../../src/directory/redis-store.js";
import { freeTcpPort } from "../../src/http/listen.js";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { redisTargetFor } from "../../src/redis/config.js";
import { testPki } from "../helpers/edge.js";
import { parse } from "../helpers/config.js";
import { org, snapshot, startRedisServer, uniquePrefix, type RedisServer } from "../helpers/redis.js";

/**
 * `redis.tls`: a real redis-server speaking TLS with the test PKI's server certificate; the edge trusts it through
 * `tls.ca` only, never through a default that happens to work.
 */

let pki: TestPkiManifest;
let server: RedisServer;
let tlsPort: number;

beforeAll(async () => {
  pki = await testPki();
  tlsPort = await freeTcpPort();
  server = await startRedisServer({
    args: ["--tls-port", String(tlsPort), "--tls-cert-file", pki.server.cert, "--tls-key-file", pki.server.key, "--tls-auth-clients", "no"],
  });
});

afterAll(async () => {
  await server?.kill();
});

describe("Redis over TLS", () => {
  it("a rediss:// URL with the CA that issued the server's certificate works; without it the connection is refused", async () => {
    const config = (ca?: string) =>
      parse({
        listeners: [{ name: "edge", port: 8443, mode: "strict", tls: { cert: "c.pem", key: "k.pem", trustAnchors: ["a.pem"] } }],
        routes: [{ name: "r", pathPrefix: "/", upstream: "http://127.0.0.1:1" }],
        redis: { mode: "standalone", url: `rediss://localhost:${tlsPort}`, connectTimeoutMs: 1_000, ...(ca && { tls: { ca } }) },
      }).redis;
    const keyPrefix = uniquePrefix();
    const store = await createRedisStore({ redis: redisTargetFor(config(pki.ca.root.cert), { connectTimeoutMs: 2_000 }, "x"), keyPrefix });
    try {
      const bank = org("5f69111d-1a6e-4d3b-9f45-0a6d3c2b1e01", "12345678000195");
      await store.publish(snapshot("v1", [bank]));
      expect(await store.organisation(bank.id)).toEqual(bank);
    } finally {
      await store.close();
    }
    await expect(createRedisStore({ redis: redisTargetFor(config(), { connectTimeoutMs: 1_000 }, "x"), keyPrefix, connectTimeoutMs: 1_000 })).rejects.toThrow(
      new RegExp(`cannot connect to Redis at rediss://localhost:${tlsPort} within 1000 ms: .*(certificate|issuer)`),
    );
  });

  it("a CA file that cannot be read stops start-up with an error naming the file", async () => {
    await expect(createRedisStore({ redis: { mode: "cluster", nodes: [{ host: "127.0.0.1", port: 1 }], connectTimeoutMs: 1_000, tls: { ca: "/nonexistent/redis-ca.pem" } }, keyPrefix: "t:" })).rejects.toThrow(
      "cannot read the Redis TLS CA file /nonexistent/redis-ca.pem: ENOENT",
    );
  });
});
