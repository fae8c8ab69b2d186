import { readFileSync } from "node:fs";

/** A Dockerfile instruction: its keyword (upper case), its flags (`--from=build`) and the rest of the line. */
export interface Instruction {
  readonly keyword: string;
  readonly flags: Readonly<Record<string, string>>;
  readonly args: string;
}

export interface Stage {
  /** `FROM <image> AS <name>`: the name, or the stage's index. */
  readonly name: string;
  readonly image: string;
  readonly instructions: readonly Instruction[];
}

/**
 * The stages of a Dockerfile (comments dropped, continuation lines joined). Only what this repository's Dockerfile
 * uses is understood; parser directives and heredocs are not.
 */
export function readDockerfile(file: string): Stage[] {
  const logical = readFileSync(file, "utf8")
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  const stages: { name: string; image: string; instructions: Instruction[] }[] = [];
  for (const line of logical) {
    const [, keyword, rest] = /^(\S+)\s*([\s\S]*)$/.exec(line)!;
    const flags: Record<string, string> = {};
    let args = rest!;
    // HEALTHCHECK's own options come before CMD; COPY's before its sources.
    for (let m = /^--([a-z-]+)=(\S+)\s+/.exec(args); m; m = /^--([a-z-]+)=(\S+)\s+/.exec(args)) {
      flags[m[1]!] = m[2]!;
      args = args.slice(m[0].length);
    }
    if (keyword!.toUpperCase() === "FROM") {
      const [image, as, name] = args.split(/\s+/);
      stages.push({ name: as?.toUpperCase() === "AS" ? name! : String(stages.length), image: image!, instructions: [] });
      continue;
    }
    if (stages.length === 0) throw new Error(`${file}: ${keyword} before FROM`);
    stages.at(-1)!.instructions.push({ keyword: keyword!.toUpperCase(), flags, args });
  }
  return stages;
}

/** `["a", "b"]` (exec form) as an array; the shell form is refused (it would need /bin/sh to mean the same). */
export function execForm(args: string, what: string): string[] {
  try {
    const parsed = JSON.parse(args) as unknown;
    if (Array.isArray(parsed) && parsed.every((x) => typeof x === "string")) return parsed;
  } catch {
    // reported below
  }
  throw new Error(`${what} is not in exec form (a JSON array of strings): ${args}`);
}

/** `ENV A=1 B="two words"` as a record. */
export function envAssignments(args: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("([^"]*)"|\S*)/g)) env[m[1]!] = m[3] ?? m[2]!;
  return env;
}
