import { ConfigError } from "../errors.js";

/**
 * Environment overrides for deployment addresses and secrets, applied to the raw configuration before
 * validation so that the same rules (and error paths) apply. Every variable that is read is listed here.
 *
 * - `OFB_EDGE_WORKERS`, `OFB_EDGE_LOG_LEVEL`
 * - `OFB_EDGE_LISTENER_<NAME>_HOST`, `_PORT`, `_KEY_PASSPHRASE` (NAME: listener name, upper case, `-` → `_`)
 * - `OFB_EDGE_ROUTE_<NAME>_UPSTREAM`
 * - `REDIS_URL`: `redis.url` (mode standalone) when the file has a `redis` section, otherwise the url of every
 *   user of Redis (Directory store, CRL store, deny list, jti replay store, idempotency store, traffic limits); `OFB_EDGE_REDIS_PASSWORD`,
 *   `OFB_EDGE_REDIS_SENTINEL_PASSWORD` (the `redis` section's secrets)
 * - `OFB_EDGE_DIRECTORY_KEY_PREFIX`, `OFB_EDGE_DIRECTORY_PARTICIPANTS_URL`, `OFB_EDGE_DIRECTORY_KEYSTORE_URL`
 * - `OFB_EDGE_ADMIN_HOST`, `OFB_EDGE_ADMIN_PORT` (when the file has an `admin` section)
 * - `OFB_EDGE_INTROSPECTION_CLIENT_SECRET` (client_secret_basic/post introspection authentication)
 * - `OFB_EDGE_AUTHORIZATION_SERVER_ISSUER` (when the file has an `authorizationServer` section)
 *
 * Read elsewhere, since they are not configuration: `OFB_EDGE_STATE_DIR` (the embedded default's folder) and
 * `OFB_EDGE_COMMIT` (a label of `ofb_edge_build_info`, metrics/registry.ts).
 */
export function applyEnvOverrides(raw: unknown, env: Readonly<Record<string, string | undefined>>, file: string): unknown {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return raw;
  const cfg = structuredClone(raw) as Record<string, unknown>;
  const issues: { path: string; message: string }[] = [];
  const envName = (s: string) => s.toUpperCase().replace(/-/g, "_");

  if (env.OFB_EDGE_WORKERS !== undefined) {
    cfg.workers = env.OFB_EDGE_WORKERS === "auto" ? "auto" : toInt(env.OFB_EDGE_WORKERS, "OFB_EDGE_WORKERS", issues);
  }
  if (env.OFB_EDGE_LOG_LEVEL !== undefined) {
    cfg.log = { ...(asRecord(cfg.log) ?? {}), level: env.OFB_EDGE_LOG_LEVEL };
  }

  // With a `redis` section, REDIS_URL is its address; without one, every user's own (the standalone shortcut).
  const redis = asRecord(cfg.redis);
  const perUserUrl = redis ? undefined : env.REDIS_URL || undefined;
  if (redis) applyRedisOverrides(redis, env, issues);
  else {
    for (const variable of ["OFB_EDGE_REDIS_PASSWORD", "OFB_EDGE_REDIS_SENTINEL_PASSWORD"] as const)
      if (env[variable] !== undefined) issues.push({ path: variable, message: "set, but the configuration has no `redis` section" });
  }

  const directory = asRecord(cfg.directory);
  if (directory) {
    const store = asRecord(directory.store);
    if (store?.type === "redis") {
      if (perUserUrl) store.url = perUserUrl;
      if (env.OFB_EDGE_DIRECTORY_KEY_PREFIX) store.keyPrefix = env.OFB_EDGE_DIRECTORY_KEY_PREFIX;
    }
    if (env.OFB_EDGE_DIRECTORY_PARTICIPANTS_URL) directory.participantsUrl = env.OFB_EDGE_DIRECTORY_PARTICIPANTS_URL;
    if (env.OFB_EDGE_DIRECTORY_KEYSTORE_URL) directory.keystoreUrl = env.OFB_EDGE_DIRECTORY_KEYSTORE_URL;
  }

  const revocationStore = asRecord(asRecord(cfg.revocation)?.store);
  if (revocationStore?.type === "redis" && perUserUrl) revocationStore.url = perUserUrl;

  const deny = asRecord(cfg.denyList);
  if (deny && perUserUrl) deny.url = perUserUrl;

  for (const section of ["idempotency", "limits"] as const) {
    const store = asRecord(asRecord(cfg[section])?.store);
    if (store?.type === "redis" && perUserUrl) store.url = perUserUrl;
  }
  const replayStore = asRecord(asRecord(cfg.messageSigning)?.replayStore);
  if (replayStore?.type === "redis" && perUserUrl) replayStore.url = perUserUrl;

  const admin = asRecord(cfg.admin);
  if (admin) {
    if (env.OFB_EDGE_ADMIN_HOST !== undefined) admin.host = env.OFB_EDGE_ADMIN_HOST;
    if (env.OFB_EDGE_ADMIN_PORT !== undefined) admin.port = toInt(env.OFB_EDGE_ADMIN_PORT, "OFB_EDGE_ADMIN_PORT", issues);
  }

  const authorizationServer = asRecord(cfg.authorizationServer);
  if (env.OFB_EDGE_AUTHORIZATION_SERVER_ISSUER !== undefined) {
    if (authorizationServer) authorizationServer.issuer = env.OFB_EDGE_AUTHORIZATION_SERVER_ISSUER;
    else issues.push({ path: "OFB_EDGE_AUTHORIZATION_SERVER_ISSUER", message: "set, but the configuration has no authorizationServer section" });
  }
  const introspection = asRecord(authorizationServer?.introspection);
  const auth = asRecord(introspection?.auth);
  if (env.OFB_EDGE_INTROSPECTION_CLIENT_SECRET !== undefined) {
    if (auth && (auth.method === "client_secret_basic" || auth.method === "client_secret_post")) auth.clientSecret = env.OFB_EDGE_INTROSPECTION_CLIENT_SECRET;
    else issues.push({ path: "OFB_EDGE_INTROSPECTION_CLIENT_SECRET", message: "set, but authorizationServer.introspection.auth.method is not client_secret_basic or client_secret_post" });
  }

  const named = (key: "listeners" | "routes") =>
    new Map((Array.isArray(cfg[key]) ? (cfg[key] as unknown[]) : []).flatMap((x) => {
      const r = asRecord(x);
      return r && typeof r.name === "string" ? [[envName(r.name), r] as const] : [];
    }));
  const listeners = named("listeners");
  const routes = named("routes");

  for (const [variable, value] of Object.entries(env)) {
    if (value === undefined) continue;
    const l = /^OFB_EDGE_LISTENER_([A-Z0-9_]+)_(HOST|PORT|KEY_PASSPHRASE)$/.exec(variable);
    if (l) {
      const listener = listeners.get(l[1]!);
      if (!listener) {
        issues.push({ path: variable, message: `no listener named '${l[1]!.toLowerCase().replace(/_/g, "-")}'` });
        continue;
      }
      if (l[2] === "HOST") listener.host = value;
      else if (l[2] === "PORT") listener.port = toInt(value, variable, issues);
      else listener.tls = { ...(asRecord(listener.tls) ?? {}), keyPassphrase: value };
      continue;
    }
    const r = /^OFB_EDGE_ROUTE_([A-Z0-9_]+)_UPSTREAM$/.exec(variable);
    if (r) {
      const route = routes.get(r[1]!);
      if (!route) issues.push({ path: variable, message: `no route named '${r[1]!.toLowerCase().replace(/_/g, "-")}'` });
      else route.upstream = value;
      continue;
    }
    // A misspelt override (`…_PROT`) must not silently leave the file's value in place.
    if (variable.startsWith("OFB_EDGE_LISTENER_")) issues.push({ path: variable, message: "unknown variable; expected OFB_EDGE_LISTENER_<NAME>_HOST, _PORT or _KEY_PASSPHRASE" });
    else if (variable.startsWith("OFB_EDGE_ROUTE_")) issues.push({ path: variable, message: "unknown variable; expected OFB_EDGE_ROUTE_<NAME>_UPSTREAM" });
  }
  if (issues.length > 0) throw new ConfigError(`${file} (environment)`, issues);
  return cfg;
}

/** `REDIS_URL` and the secrets into the `redis` section; a variable that does not fit its mode is an issue, not ignored. */
function applyRedisOverrides(redis: Record<string, unknown>, env: Readonly<Record<string, string | undefined>>, issues: { path: string; message: string }[]): void {
  if (env.REDIS_URL) {
    if (redis.mode === "standalone") redis.url = env.REDIS_URL;
    else if (typeof redis.mode === "string") issues.push({ path: "REDIS_URL", message: `set, but redis.mode is '${redis.mode}': a URL names one standalone Redis (unset it, or use redis.mode standalone)` });
  }
  if (env.OFB_EDGE_REDIS_PASSWORD !== undefined) redis.password = env.OFB_EDGE_REDIS_PASSWORD;
  if (env.OFB_EDGE_REDIS_SENTINEL_PASSWORD !== undefined) {
    if (redis.mode === "sentinel") redis.sentinelPassword = env.OFB_EDGE_REDIS_SENTINEL_PASSWORD;
    else issues.push({ path: "OFB_EDGE_REDIS_SENTINEL_PASSWORD", message: "set, but redis.mode is not sentinel" });
  }
}

function asRecord(x: unknown): Record<string, unknown> | undefined {
  return typeof x === "object" && x !== null && !Array.isArray(x) ? (x as Record<string, unknown>) : undefined;
}

function toInt(value: string, variable: string, issues: { path: string; message: string }[]): number {
  if (!/^\d+$/.test(value)) issues.push({ path: variable, message: `expected an integer, got '${value.slice(0, 40)}'` });
  return Number(value);
}
