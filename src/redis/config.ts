import { z } from "zod";
import { standaloneTarget, type RedisTarget } from "./target.js";

/**
 * The top-level `redis` section: one description of how every user of Redis (Directory store, CRL store, deny
 * list) reaches it. A user's own `url` (or `REDIS_URL`) remains the shortcut for one standalone Redis when there
 * is no `redis` section; both at once is refused as ambiguous ({@link redisConfigIssues}).
 */

/** A `redis://` or `rediss://` URL (`rediss`: TLS). */
export const redisUrlSchema = z.string().regex(/^rediss?:\/\//, "a redis:// or rediss:// URL");

/** A user's key prefix: its keys and channels start with it, so users and deployments sharing a Redis stay apart. */
export const keyPrefixSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[^{}]*$/, "no '{' or '}': the edge places the Redis Cluster hash tags itself")
  .default("ofb-edge:");

/** A user's own `url`: the standalone shortcut. */
export const userUrlSchema = redisUrlSchema
  .optional()
  .describe("One standalone Redis. Default: the REDIS_URL environment variable. Leave it out when the top-level `redis` section describes Redis.");

/**
 * The members of a Redis user's `store` when it is Redis (`{"type": "redis", …}`): its own `url` (or the `redis`
 * section), its key prefix — `keys` says what the user keeps under it — and how long start-up waits for Redis.
 * A user adds its own members by spreading this shape into its object.
 */
export function redisStoreShape(keys?: string) {
  return {
    type: z.literal("redis"),
    url: userUrlSchema,
    keyPrefix: keys === undefined ? keyPrefixSchema : keyPrefixSchema.describe(keys),
    connectTimeoutMs: z.number().int().positive().default(5_000).describe("How long start-up waits for Redis (retrying) before the edge refuses to start."),
  };
}

const endpoint = z.strictObject({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
});

const common = {
  username: z.string().min(1).optional().describe("ACL user (Redis 6 and later)."),
  password: z.string().min(1).optional().describe("Prefer the environment variable OFB_EDGE_REDIS_PASSWORD."),
  tls: z
    .strictObject({
      ca: z.string().min(1).optional().describe("PEM file with the CA(s) that issued the Redis servers' certificates; default: Node's bundled CAs."),
    })
    .optional()
    .describe("TLS to every Redis node (and Sentinel). In standalone mode the url must then be rediss://."),
  connectTimeoutMs: z
    .number()
    .int()
    .positive()
    .default(5_000)
    .describe("Bound on one connection attempt to one node or Sentinel (TCP, TLS, AUTH); reconnection keeps trying. How long start-up waits for Redis is each user's own connectTimeoutMs."),
  commandTimeoutMs: z
    .number()
    .int()
    .positive()
    .optional()
    .describe("Bound on one command's reply, for every user. Default per user: Directory store 1 s, deny list 2 s, CRL store 10 s (never less: a CRL travels in one reply), idempotency store 2 s, traffic limits 250 ms (a request waits at most this long before limits.onStoreError decides)."),
};

export const redisSchema = z.discriminatedUnion("mode", [
  z.strictObject({
    mode: z.literal("standalone"),
    url: redisUrlSchema.optional().describe("Default: the REDIS_URL environment variable."),
    ...common,
  }),
  z.strictObject({
    mode: z.literal("sentinel"),
    sentinels: z.array(endpoint).min(1).describe("Some of the Sentinels watching the master set (default Sentinel port 26379); more are learnt from them."),
    name: z.string().min(1).describe("The master set's name, as in `sentinel monitor <name> …`."),
    sentinelPassword: z.string().min(1).optional().describe("The Sentinels' own password; prefer the environment variable OFB_EDGE_REDIS_SENTINEL_PASSWORD."),
    ...common,
  }),
  z.strictObject({
    mode: z.literal("cluster"),
    nodes: z.array(endpoint).min(1).describe("Some nodes of the Redis Cluster; the others are discovered from them."),
    ...common,
  }),
]);

export type RedisConfigInput = z.input<typeof redisSchema>;
export type RedisConfig = z.output<typeof redisSchema>;

/** What a user section holds about Redis: its own `url` shortcut and how long its start-up waits. */
export interface RedisUserConfig {
  readonly url?: string | undefined;
  readonly connectTimeoutMs: number;
}

/** A configuration problem at a JSON path (the caller turns it into a zod issue). */
export interface RedisConfigIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/**
 * What is ambiguous or missing in how the users reach Redis: a user's `url` next to a `redis` section (two
 * descriptions), no address at all, credentials both in the URL and in their own keys, `tls` with a `redis://`
 * URL. `users` maps each Redis user's JSON path (e.g. `["directory", "store"]`) to its section.
 */
export function redisConfigIssues(shared: RedisConfig | undefined, users: readonly { readonly path: readonly string[]; readonly section: RedisUserConfig }[]): RedisConfigIssue[] {
  const issues: RedisConfigIssue[] = [];
  for (const { path, section } of users) {
    if (shared && section.url !== undefined)
      issues.push({ path: [...path, "url"], message: "set, but the top-level `redis` section also describes how to reach Redis: keep one (remove this url, or the `redis` section)" });
    if (!shared && section.url === undefined) issues.push({ path: [...path, "url"], message: "required (or set REDIS_URL, or describe Redis in the top-level `redis` section)" });
  }
  if (shared?.mode === "standalone") {
    if (shared.url === undefined) {
      if (users.length > 0) issues.push({ path: ["redis", "url"], message: "required with mode standalone (or set REDIS_URL)" });
    } else {
      const url = parseUrl(shared.url);
      if (!url) issues.push({ path: ["redis", "url"], message: "not a valid URL" });
      if (url?.password && shared.password !== undefined) issues.push({ path: ["redis", "password"], message: "set, but redis.url carries a password too: keep one" });
      if (url?.username && shared.username !== undefined) issues.push({ path: ["redis", "username"], message: "set, but redis.url carries a user name too: keep one" });
      if (url?.protocol === "redis:" && shared.tls) issues.push({ path: ["redis", "tls"], message: "set, but redis.url is redis:// (plain TCP): use rediss:// for TLS" });
    }
  }
  return issues;
}

/**
 * How the user at `path` reaches Redis: the `redis` section when there is one, otherwise its own `url` as one
 * standalone Redis. The configuration was validated by {@link redisConfigIssues}; this throws only for a
 * configuration built around it.
 */
export function redisTargetFor(shared: RedisConfig | undefined, section: RedisUserConfig, path: string): RedisTarget {
  if (!shared) {
    if (section.url === undefined) throw new Error(`${path}.url is not set and REDIS_URL is empty: Redis needs an address (or a top-level \`redis\` section)`);
    return standaloneTarget(section.url, section.connectTimeoutMs);
  }
  const { username, password, tls, connectTimeoutMs, commandTimeoutMs } = shared;
  const common = { connectTimeoutMs, ...(username !== undefined && { username }), ...(password !== undefined && { password }), ...(tls && { tls }), ...(commandTimeoutMs !== undefined && { commandTimeoutMs }) };
  switch (shared.mode) {
    case "standalone":
      if (shared.url === undefined) throw new Error("redis.url is not set and REDIS_URL is empty: Redis needs an address");
      return { mode: "standalone", url: shared.url, ...common };
    case "sentinel":
      return { mode: "sentinel", sentinels: shared.sentinels, name: shared.name, ...(shared.sentinelPassword !== undefined && { sentinelPassword: shared.sentinelPassword }), ...common };
    case "cluster":
      return { mode: "cluster", nodes: shared.nodes, ...common };
  }
}

function parseUrl(text: string): URL | null {
  try {
    return new URL(text);
  } catch {
    return null;
  }
}
