import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { formatIssues, parseJson } from "../config/load.js";
import { ConfigError } from "../errors.js";
import { packageRoot } from "../package-root.js";
import { compileProfile, type CompiledProfile } from "./engine.js";
import { profileSchema, type Profile } from "./schema.js";

/** The folder of built-in profiles shipped with the product (`profiles/*.json` at the package root). */
export function builtInProfileDir(): string {
  return join(packageRoot(), "profiles");
}

/** Reads and validates one profile file; errors name the file and the JSON path. */
export function readProfileFile(file: string): Profile {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (cause) {
    throw new ConfigError(file, [{ path: "", message: `cannot read: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}` }]);
  }
  const result = profileSchema.safeParse(parseJson(text, file));
  if (!result.success) throw new ConfigError(file, formatIssues(result.error.issues));
  return result.data;
}

export interface LoadedProfiles {
  readonly byName: ReadonlyMap<string, CompiledProfile>;
  /** Where each profile came from (built-in or the operator's file). */
  readonly sources: ReadonlyMap<string, string>;
  /** Every field name any loaded profile can emit, lower case: stripped from every request (anti-spoofing). */
  readonly headerNames: ReadonlySet<string>;
}

/**
 * The built-in profiles plus the operator's files. Every file is read and validated before anything is
 * returned, so one bad file stops start-up (or a reload) and nothing is half-applied. An operator profile
 * may not reuse a built-in's name: a profile name means one thing everywhere.
 */
export function loadProfiles(options: { files?: readonly string[]; builtInDir?: string } = {}): LoadedProfiles {
  const dir = options.builtInDir ?? builtInProfileDir();
  const builtIns = readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => resolve(dir, f));
  const byName = new Map<string, CompiledProfile>();
  const sources = new Map<string, string>();
  for (const file of [...builtIns, ...(options.files ?? []).map((f) => resolve(f))]) {
    const profile = readProfileFile(file);
    const earlier = sources.get(profile.name);
    if (earlier !== undefined) throw new ConfigError(file, [{ path: "name", message: `profile '${profile.name}' is already defined by ${earlier}` }]);
    byName.set(profile.name, compileProfile(profile));
    sources.set(profile.name, file);
  }
  const headerNames = new Set<string>();
  for (const p of byName.values()) for (const n of p.headerNames) headerNames.add(n);
  return { byName, sources, headerNames };
}
