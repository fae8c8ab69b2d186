import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";

/**
 * cgroup v2's CPU bandwidth limit of the process's cgroup, as a container sees it: `<quota> <period>` in
 * microseconds, or `max <period>` for no limit (Linux, Documentation/admin-guide/cgroup-v2.rst, "cpu.max").
 */
export const CGROUP_CPU_MAX = "/sys/fs/cgroup/cpu.max";

/**
 * The CPUs a cgroup v2 quota allows, rounded up (`150000 100000` → 2); null when there is no quota (`max`), no file
 * (not Linux, cgroup v1) or a value that does not read as one.
 */
export function cgroupCpuLimit(file: string = CGROUP_CPU_MAX): number | null {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return null;
  }
  const match = /^(max|\d+)(?:\s+(\d+))?\s*$/.exec(text.trim());
  if (!match || match[1] === "max") return null;
  const quota = Number(match[1]);
  // The kernel's default period, when the file gives the quota alone.
  const period = match[2] === undefined ? 100_000 : Number(match[2]);
  if (quota <= 0 || period <= 0) return null;
  return Math.ceil(quota / period);
}

/**
 * `workers: "auto"`: one worker per CPU the process may use, the smaller of `availableParallelism()` (the CPUs it
 * may run on) and the container's CPU quota, at least one. Both sources are injectable for tests.
 */
export function autoWorkerCount(options: { readonly cpuMaxFile?: string; readonly parallelism?: number } = {}): number {
  const cores = options.parallelism ?? availableParallelism();
  const quota = cgroupCpuLimit(options.cpuMaxFile);
  return Math.max(1, quota === null ? cores : Math.min(cores, quota));
}
