import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import type { z } from "zod";
import { ConfigError } from "../errors.js";
import { applyEnvOverrides } from "./env.js";
import { jsonSyntaxErrorLocation } from "./json-syntax.js";
import { SHA256_FINGERPRINT } from "../pki/thumbprint.js";
import { configSchema, terminatesTls, type Config, type ConfigInput } from "./schema.js";

/**
 * Reads, overrides from the environment, validates and freezes a configuration file.
 * Errors name the file and the JSON path of every problem (parse at the boundary: nothing else sees raw JSON).
 */
export function loadConfigFile(file: string, env: Readonly<Record<string, string | undefined>> = {}): Config {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (cause) {
    throw new ConfigError(file, [{ path: "", message: `cannot read: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}` }]);
  }
  return parseConfig(parseJson(text, file), { file, baseDir: dirname(resolve(file)), env });
}

/** Validates an in-memory configuration (the embedded default, tests). Relative paths resolve against `baseDir`. */
export function parseConfig(
  raw: unknown,
  options: { file: string; baseDir: string; env?: Readonly<Record<string, string | undefined>> },
): Config {
  const overridden = applyEnvOverrides(raw, options.env ?? {}, options.file);
  const result = configSchema.safeParse(overridden);
  if (!result.success) throw new ConfigError(options.file, formatIssues(result.error.issues));
  return deepFreeze(resolvePaths(result.data, options.baseDir));
}

/** A typed helper for building configurations in code. */
export function defineConfig(input: ConfigInput): ConfigInput {
  return input;
}

/** `listeners[0].tls.cert` from a zod path. */
export function jsonPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, p) => (typeof p === "number" ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), "");
}

export function formatIssues(issues: readonly z.core.$ZodIssue[]): { path: string; message: string }[] {
  return issues.map((i) => ({ path: jsonPath(i.path), message: i.message }));
}

export function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    // V8 quotes a snippet of the text in some messages ("…", "<text>" is not valid JSON): the file may hold a
    // passphrase, so only the reason is kept and the position is computed here.
    const reason = (cause as Error).message.replace(/, [\s\S]* is not valid JSON$/, "").replace(/ in JSON at position \d+.*$/s, "");
    const at = jsonSyntaxErrorLocation(text);
    const where = at ? ` at line ${at.line}, column ${at.column}` : "";
    throw new ConfigError(file, [{ path: "", message: `invalid JSON${where}: ${reason}` }]);
  }
}

function resolvePaths(cfg: Config, baseDir: string): Config {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const as = cfg.authorizationServer;
  const auth = as?.introspection?.auth;
  return {
    ...cfg,
    // A policy.transportRoots entry is a fingerprint or a PEM file.
    policy: { ...cfg.policy, transportRoots: cfg.policy.transportRoots.map((entry) => (SHA256_FINGERPRINT.test(entry) ? entry : abs(entry))) },
    ...(cfg.headerProfiles && { headerProfiles: { files: cfg.headerProfiles.files.map(abs) } }),
    ...(cfg.identityAssertion && { identityAssertion: { ...cfg.identityAssertion, key: abs(cfg.identityAssertion.key) } }),
    ...(cfg.messageSigning?.signingKey && { messageSigning: { ...cfg.messageSigning, signingKey: { ...cfg.messageSigning.signingKey, file: abs(cfg.messageSigning.signingKey.file) } } }),
    ...(cfg.redis?.tls?.ca !== undefined && { redis: { ...cfg.redis, tls: { ...cfg.redis.tls, ca: abs(cfg.redis.tls.ca) } } }),
    ...(cfg.revocation.crlFiles.length > 0 && { revocation: { ...cfg.revocation, crlFiles: cfg.revocation.crlFiles.map(abs) } }),
    ...(as && {
      authorizationServer: {
        ...as,
        ...(as.caFile !== undefined && { caFile: abs(as.caFile) }),
        ...(as.introspection &&
          auth && {
            introspection: {
              ...as.introspection,
              auth:
                auth.method === "tls_client_auth"
                  ? { ...auth, cert: abs(auth.cert), key: abs(auth.key) }
                  : auth.method === "private_key_jwt"
                    ? { ...auth, key: abs(auth.key) }
                    : auth,
            },
          }),
      },
    }),
    listeners: cfg.listeners.map((l) => !terminatesTls(l) ? l : ({
      ...l,
      tls: {
        ...l.tls,
        cert: abs(l.tls.cert),
        key: abs(l.tls.key),
        trustAnchors: l.tls.trustAnchors.map(abs),
        ...(l.tls.dhparam === undefined ? {} : { dhparam: abs(l.tls.dhparam) }),
      },
      ...(l.trustedProxy && {
        trustedProxy: { ...l.trustedProxy, ...(l.trustedProxy.clientTrustAnchors && { clientTrustAnchors: l.trustedProxy.clientTrustAnchors.map(abs) }) },
      }),
    })),
  };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
