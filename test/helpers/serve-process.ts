import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, vi } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** `ofb-edge serve` as a real process (the compiled CLI: `npm test` builds it first), with its JSON log lines. */
export interface SpawnedEdge {
  readonly process: ChildProcess;
  /** The configuration file it was started with (tests rewrite it to trigger a reload). */
  readonly configFile: string;
  /** The first TLS listener's port, as the (first) worker logged it. */
  readonly port: number;
  /** Each listener's port by name, as logged. */
  readonly ports: ReadonlyMap<string, number>;
  /** PIDs of the cluster workers (empty with one worker). */
  readonly workers: readonly number[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  /** The pino JSON lines the process (and its workers) wrote to stdout. */
  logs(): Record<string, unknown>[];
  /** Every stdout line (the JSON log: the CLI's banner goes to stderr). */
  lines(): readonly string[];
  /** What it wrote to stderr: the banner, and errors. */
  stderr(): string;
  /** SIGTERM, then the exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Kills what is left (a failed test) and removes the configuration's directory. */
  cleanup(): Promise<void>;
}

/** PIDs whose parent is `parent`, from /proc. */
function childPids(parent: number): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === parent;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Whether a process is still running (a zombie waiting for its parent counts as gone). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/**
 * Writes `config` (with `drainDelayMs: 0` unless it says otherwise) to a fresh directory and starts `ofb-edge serve
 * --config` on it; resolves once every worker of every TLS listener listens (rejects with its stderr if it exits
 * first). `cwd` defaults to the package root; `env` is added to this process's environment (a key set to `undefined` unsets it).
 */
export async function spawnEdge(config: Record<string, unknown>, options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<SpawnedEdge> {
  const dir = await mkdtemp(join(tmpdir(), "ofb-edge-serve-"));
  const file = join(dir, "edge.json");
  // Tests stop at once unless they test the shutdown delay: nothing balances load onto them.
  await writeFile(file, JSON.stringify({ drainDelayMs: 0, ...config }));
  const child = spawn(process.execPath, [join(ROOT, "bin/ofb-edge.js"), "serve", "--config", file], { cwd: options.cwd ?? ROOT, env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal, at: performance.now() })));
  const lines: string[] = [];
  let partial = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    const split = (partial + chunk.toString("utf8")).split("\n");
    partial = split.pop()!;
    lines.push(...split);
  });
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const logs = () =>
    lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  const workers = config.workers === undefined || config.workers === 1 ? 1 : Number(config.workers);
  const listenerCount = Array.isArray(config.listeners) ? config.listeners.length : 1;
  const listening = () => logs().filter((l) => l.kind === "lifecycle" && l.msg === "listening");
  await vi.waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`ofb-edge exited early (${child.exitCode}): ${stderr}`);
      expect(stderr).toContain("ofb-edge is listening on");
      expect(listening().length).toBeGreaterThanOrEqual(workers * listenerCount);
    },
    { timeout: 30_000, interval: 50 },
  );
  return {
    process: child,
    configFile: file,
    port: listening()[0]!.port as number,
    ports: new Map(listening().map((l) => [l.listener as string, l.port as number])),
    workers: workers > 1 ? childPids(child.pid!) : [],
    exited,
    logs,
    lines: () => lines,
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const { code, signal } = await exited;
      return { code, signal };
    },
    cleanup: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await rm(dir, { recursive: true, force: true });
    },
  };
}
