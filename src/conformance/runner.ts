import { readdir } from "node:fs/promises";
import { basename, extname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { SourceCommit } from "../source-commit.js";
import { ScenarioContext } from "./context.js";
import type { Environment } from "./environment.js";
import type { ConfigurationFingerprint } from "./fingerprint.js";
import { AREAS, CAPABILITY_SOURCES, ConformanceFailure, ScenarioSkipped, type Area, type Scenario } from "./scenario.js";

export type Outcome = "pass" | "fail" | "skip";

export interface ScenarioResult {
  readonly id: string;
  readonly area: Area;
  readonly title: string;
  readonly origin: readonly string[];
  readonly status: Outcome;
  readonly durationMs: number;
  /** Why it failed or was skipped. */
  readonly message?: string;
  /** What was verified, in order. */
  readonly checks: readonly string[];
  readonly notes: readonly string[];
}

export interface SuiteResult {
  readonly startedAt: string;
  readonly durationMs: number;
  /** What the run says about itself, first in every report: {@link scopeStatement}. */
  readonly scope: string;
  /** The ofb-edge that ran the suite (its source commit; `unknown` when nothing says). */
  readonly commit: SourceCommit;
  readonly mode: Environment["mode"];
  /** The edge the suite spoke to: the local stack's listener, or the deployment's URL. */
  readonly target: string;
  /** What the suite spoke to the edge. */
  readonly protocol: Environment["protocol"];
  readonly configuration: ConfigurationFingerprint;
  readonly description: string;
  readonly notes: readonly string[];
  readonly counts: { readonly pass: number; readonly fail: number; readonly skip: number; readonly total: number };
  readonly results: readonly ScenarioResult[];
}

export type RunEvent =
  | { readonly type: "start"; readonly total: number }
  | { readonly type: "scenario-start"; readonly index: number; readonly scenario: Scenario }
  | { readonly type: "scenario-end"; readonly index: number; readonly result: ScenarioResult };

/** The scenario folder next to this module: `conformance/scenarios` from the sources, `dist/conformance/scenarios` once built. */
export const SCENARIO_DIR = fileURLToPath(new URL("../../conformance/scenarios/", import.meta.url));

const SCENARIO_TIMEOUT_MS = 30_000;

/**
 * Loads every scenario in `dir/<area>/<id>.(ts|js)`: one default-exported {@link Scenario} per file, whose
 * `id` is the file name and `area` the folder. In area order, then by id.
 */
export async function loadScenarios(dir = SCENARIO_DIR): Promise<Scenario[]> {
  const scenarios: Scenario[] = [];
  for (const area of AREAS) {
    const folder = join(dir, area);
    const files = (await readdir(folder).catch(() => [] as string[])).filter((f) => (f.endsWith(".ts") && !f.endsWith(".d.ts")) || f.endsWith(".js")).sort();
    for (const file of files) {
      const id = basename(file, extname(file));
      const mod = (await import(pathToFileURL(join(folder, file)).href)) as { default?: Scenario };
      const s = mod.default;
      if (!s || typeof s.run !== "function") throw new Error(`${join(folder, file)}: no default-exported scenario`);
      if (s.id !== id) throw new Error(`${join(folder, file)}: scenario id '${s.id}' differs from its file name`);
      if (s.area !== area) throw new Error(`${join(folder, file)}: scenario area '${s.area}' differs from its folder '${area}'`);
      scenarios.push(s);
    }
  }
  const ids = new Set<string>();
  for (const s of scenarios) {
    if (ids.has(s.id)) throw new Error(`two scenarios named '${s.id}'`);
    ids.add(s.id);
  }
  return scenarios;
}

/** What a local run tests, stated in every report. */
export const LOCAL_SCOPE = "local: tests ofb-edge's own stack on this machine; it says nothing about a deployment";

/**
 * The statement every report leads with, so that a local PASSED is never taken for a deployment's: a local run
 * tests the product's own stack; a target run tests the deployment at its URL, only as far as the prerequisites given.
 */
export function scopeStatement(env: Pick<Environment, "mode" | "target">): string {
  if (env.mode === "local") return LOCAL_SCOPE;
  return `target: tests the deployment at ${env.target.url}; scenarios whose prerequisites were not given are skipped and say nothing about it`;
}

/**
 * Runs `scenarios` one after the other against `env`; a scenario whose capabilities are missing is skipped, naming
 * them. `commit` is the running ofb-edge's source commit (`sourceCommit`), stated in the result.
 */
export async function runScenarios(
  env: Environment,
  scenarios: readonly Scenario[],
  onEvent: (e: RunEvent) => void = () => undefined,
  commit: SourceCommit = { id: "unknown", source: "unknown" },
): Promise<SuiteResult> {
  const started = Date.now();
  const results: ScenarioResult[] = [];
  onEvent({ type: "start", total: scenarios.length });
  for (const [index, s] of scenarios.entries()) {
    onEvent({ type: "scenario-start", index, scenario: s });
    const result = await runOne(env, s);
    results.push(result);
    onEvent({ type: "scenario-end", index, result });
  }
  const count = (status: Outcome) => results.filter((r) => r.status === status).length;
  return {
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    scope: scopeStatement(env),
    commit,
    mode: env.mode,
    target: env.target.url,
    protocol: env.protocol,
    configuration: env.configuration,
    description: env.description,
    notes: env.notes,
    counts: { pass: count("pass"), fail: count("fail"), skip: count("skip"), total: results.length },
    results,
  };
}

async function runOne(env: Environment, s: Scenario): Promise<ScenarioResult> {
  const base = { id: s.id, area: s.area, title: s.title, origin: s.origin };
  const missing = s.requires.filter((c) => !env.capabilities.has(c));
  if (missing.length > 0) {
    return { ...base, status: "skip", durationMs: 0, message: `needs ${missing.map((c) => CAPABILITY_SOURCES[c]).join("; ")}`, checks: [], notes: [] };
  }
  const t = new ScenarioContext(env);
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      s.run(t),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new ConformanceFailure(`did not finish within ${SCENARIO_TIMEOUT_MS / 1000} s`)), SCENARIO_TIMEOUT_MS);
      }),
    ]);
    if (t.checks.length === 0) throw new ConformanceFailure("the scenario checked nothing");
    return { ...base, status: "pass", durationMs: elapsed(started), checks: t.checks, notes: t.notes };
  } catch (err) {
    if (err instanceof ScenarioSkipped) return { ...base, status: "skip", durationMs: elapsed(started), message: err.message, checks: t.checks, notes: t.notes };
    const message = err instanceof ConformanceFailure ? err.message : `error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
    return { ...base, status: "fail", durationMs: elapsed(started), message, checks: t.checks, notes: t.notes };
  } finally {
    clearTimeout(timer);
    t.dispose();
  }
}

function elapsed(since: number): number {
  return Math.round(performance.now() - since);
}
