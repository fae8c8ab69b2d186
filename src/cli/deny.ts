import { loadConfigFile } from "../config/load.js";
import { ConfigError } from "../errors.js";
import { redisTargetFor } from "../redis/config.js";
import { normaliseDenyValue, openRedisDenyList, type DenyEntry, type DenyKind } from "../deny/deny-list.js";
import { parseCommandLine } from "./args.js";

type Io = { stdout: (s: string) => void; stderr: (s: string) => void };

export const USAGE = `Usage: ofb-edge deny add (--thumbprint X5T | --organisation ORG_ID | --software-statement SS_ID) --reason TEXT [--expires 2h|7d|ISO-8601] --config FILE
       ofb-edge deny remove (--thumbprint X5T | --organisation ORG_ID | --software-statement SS_ID) --config FILE
       ofb-edge deny list [--json] --config FILE`;

/** `2h`, `30m`, `7d` or an ISO 8601 instant → epoch ms; null when unparseable. */
export function parseExpiry(text: string, now: number): number | null {
  const rel = /^(\d+)(s|m|h|d)$/.exec(text);
  if (rel) return now + Number(rel[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as "s" | "m" | "h" | "d"];
  const at = Date.parse(text);
  return /^\d{4}-\d{2}-\d{2}T/.test(text) && Number.isFinite(at) ? at : null;
}

/**
 * `ofb-edge deny …` (issue: instant deny list): what an operator runs after a key compromise. Writes to the
 * Redis the configuration's `denyList` names; every replica applies the change within about a second, to
 * connections already open too.
 */
export async function runDeny(argv: string[], io: Io, env: Readonly<Record<string, string | undefined>>, now: () => number = Date.now): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== "add" && sub !== "remove" && sub !== "list") {
    io.stderr(`ofb-edge deny: ${sub === undefined ? "missing sub-command" : `unknown sub-command '${sub}'`}\n\n${USAGE}`);
    return 2;
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseCommandLine({
      args: rest,
      options: {
        config: { type: "string", short: "c" },
        thumbprint: { type: "string" },
        organisation: { type: "string" },
        "software-statement": { type: "string" },
        reason: { type: "string" },
        expires: { type: "string" },
        json: { type: "boolean" },
      },
      strict: true,
    }).values;
  } catch (err) {
    io.stderr(`ofb-edge deny ${sub}: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (typeof values.config !== "string") {
    io.stderr(`ofb-edge deny ${sub}: --config FILE is required\n\n${USAGE}`);
    return 2;
  }
  let target: { kind: DenyKind; value: string } | null = null;
  if (sub !== "list") {
    const given = (["thumbprint", "organisation", "software-statement"] as const).filter((k) => typeof values[k] === "string");
    if (given.length !== 1) {
      io.stderr(`ofb-edge deny ${sub}: name exactly one of --thumbprint, --organisation, --software-statement\n\n${USAGE}`);
      return 2;
    }
    const kind = given[0]!;
    try {
      target = { kind, value: normaliseDenyValue(kind, values[kind] as string) };
    } catch (err) {
      io.stderr(`ofb-edge deny ${sub}: --${kind}: ${(err as Error).message}`);
      return 2;
    }
  }
  let expiresAt: string | null = null;
  if (sub === "add") {
    if (typeof values.reason !== "string" || values.reason.trim() === "") {
      io.stderr("ofb-edge deny add: --reason TEXT is required (it is what the next operator reads)");
      return 2;
    }
    if (typeof values.expires === "string") {
      const at = parseExpiry(values.expires, now());
      if (at === null || at <= now()) {
        io.stderr("ofb-edge deny add: --expires must be a duration (30m, 2h, 7d) or a future ISO 8601 instant");
        return 2;
      }
      expiresAt = new Date(at).toISOString();
    }
  }
  let config;
  try {
    config = loadConfigFile(values.config, env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.stderr(`${err.file}: invalid`);
    for (const i of err.issues) io.stderr(`  ${i.path || "(root)"}: ${i.message}`);
    return 1;
  }
  if (!config.denyList) {
    io.stderr(`ofb-edge deny: ${values.config} has no denyList section`);
    return 1;
  }
  const list = await openRedisDenyList({ redis: redisTargetFor(config.redis, config.denyList, "denyList"), keyPrefix: config.denyList.keyPrefix, connectTimeoutMs: config.denyList.connectTimeoutMs, subscribe: false });
  try {
    if (sub === "add") {
      const entry: DenyEntry = { ...target!, reason: (values.reason as string).trim(), addedAt: new Date(now()).toISOString(), expiresAt };
      await list.add(entry);
      io.stdout(`denied ${entry.kind} ${entry.value}${expiresAt ? ` until ${expiresAt}` : ""}: ${entry.reason}`);
      return 0;
    }
    if (sub === "remove") {
      const removed = await list.remove(target!.kind, target!.value);
      io.stdout(removed ? `removed ${target!.kind} ${target!.value}` : `not on the deny list: ${target!.kind} ${target!.value}`);
      return removed ? 0 : 1;
    }
    const entries = await list.list();
    if (values.json) io.stdout(JSON.stringify(entries, null, 2));
    else if (entries.length === 0) io.stdout("the deny list is empty");
    else for (const e of entries) io.stdout(`${e.kind}\t${e.value}\t${e.expiresAt ?? "no expiry"}\t${Date.parse(e.expiresAt ?? "9999") <= now() ? "(expired) " : ""}${e.reason}`);
    return 0;
  } finally {
    await list.close();
  }
}
