import { spawn } from "node:child_process";
import { redisUrl } from "./redis.js";

/** What a spawned `ofb-edge conformance` printed, how it exited and how long it took. */
export interface ConformanceRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Runs `ofb-edge conformance <args>` as users do (the built CLI, the tests' Redis in REDIS_URL, no colours). */
export function runConformanceCli(args: readonly string[]): Promise<ConformanceRun> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["bin/ofb-edge.js", "conformance", ...args, "--no-color"], {
      env: { ...process.env, REDIS_URL: redisUrl(), NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => void (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => void (stderr += b.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
  });
}
