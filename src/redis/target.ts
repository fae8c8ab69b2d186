/** A host and port of a Sentinel or of a Redis Cluster node. */
export interface RedisEndpoint {
  readonly host: string;
  readonly port: number;
}

/** What every topology shares: credentials, TLS and time bounds. */
interface RedisTargetCommon {
  /** ACL user (Redis 6+); with a URL it may be in the URL instead, never in both. */
  readonly username?: string;
  readonly password?: string;
  /** TLS to every Redis node (and every Sentinel); `ca`: a PEM file trusted instead of Node's bundled CAs. */
  readonly tls?: { readonly ca?: string };
  /** Bound on one connection attempt to one node or Sentinel (TCP, TLS, AUTH). */
  readonly connectTimeoutMs: number;
  /** Bound on one command's reply for every user; absent: each user's own default. */
  readonly commandTimeoutMs?: number;
}

/**
 * How to reach Redis, resolved from configuration: one Redis (`standalone`, a `redis://` or `rediss://` URL), a
 * primary/replica set managed by Sentinel (`sentinel`: the Sentinels to ask and the master set's `name`), or a
 * Redis Cluster (`cluster`: some of its nodes; the rest are discovered). ioredis implements all three.
 */
export type RedisTarget = RedisTargetCommon &
  (
    | { readonly mode: "standalone"; readonly url: string }
    | { readonly mode: "sentinel"; readonly sentinels: readonly RedisEndpoint[]; readonly name: string; readonly sentinelPassword?: string }
    | { readonly mode: "cluster"; readonly nodes: readonly RedisEndpoint[] }
  );

/** A standalone target from a URL, as the per-user `url` shortcut and `REDIS_URL` describe one. */
export function standaloneTarget(url: string, connectTimeoutMs: number): RedisTarget {
  return { mode: "standalone", url, connectTimeoutMs };
}

/** A Redis URL fit for logs and error messages: the password, if any, replaced by `***`. */
export function maskRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(an unparseable Redis URL)";
  }
}

/**
 * The target in words for logs and errors, never with a secret: the masked URL, `sentinel <name> via h:p,…`
 * or `cluster h:p,…`.
 */
export function describeTarget(target: RedisTarget): string {
  const list = (endpoints: readonly RedisEndpoint[]) => endpoints.map((e) => `${e.host}:${e.port}`).join(",");
  switch (target.mode) {
    case "standalone":
      return maskRedisUrl(target.url);
    case "sentinel":
      return `sentinel master set '${target.name}' via ${list(target.sentinels)}`;
    case "cluster":
      return `cluster ${list(target.nodes)}`;
  }
}
