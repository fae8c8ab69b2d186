import { execFileSync } from "node:child_process";
import { availableParallelism } from "node:os";

/**
 * CPU placement for the load benchmarks (`BENCH_PIN`, on by default where it can be): the server under test
 * (the edge, the baseline, or another benchmark's edge role) alone on CPU 0; the load generator (the benchmark
 * process), the backend, the mock Directory and Redis on the other CPUs. Sharing two cores, the backend's and
 * autocannon's work lands on the edge's core in proportion to what each configuration sends them (a profile
 * that adds 6 KB per request makes the backend parse 6 KB more), and the scheduler moves the edge between cores
 * from run to run; placed, the edge's throughput is its own. `BENCH_PIN=0` lets every process share every CPU.
 * Needs Linux `taskset` (util-linux) and at least two CPUs; without either, nothing is placed.
 */

/** Roles that are the server under test; every other role is a helper. */
const isMeasured = (role: string) => role === "baseline" || role === "edge" || role.endsWith("-edge");

function taskset(): boolean {
  try {
    execFileSync("taskset", ["-p", String(process.pid)], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** The machine's CPUs, read before this process is placed (availableParallelism follows the affinity). */
export const cpus = availableParallelism();
const HELPERS = cpus === 2 ? "1" : `1-${cpus - 1}`;
let placing: boolean | undefined;
/** Decided once, in the benchmark process (the server children never place anything). */
const enabled = () => (placing ??= process.env.BENCH_PIN !== "0" && cpus >= 2 && taskset());

/** Moves every thread of `pid` to the role's CPUs. */
export function placeRole(pid: number | undefined, role: string): void {
  if (pid === undefined || !enabled()) return;
  execFileSync("taskset", ["-a", "-p", "-c", isMeasured(role) ? "0" : HELPERS, String(pid)], { stdio: "ignore" });
}

/** Moves this process (the load generator) to the helpers' CPUs; processes it starts later inherit them. */
export function placeLoadGenerator(): void {
  if (enabled()) execFileSync("taskset", ["-a", "-p", "-c", HELPERS, String(process.pid)], { stdio: "ignore" });
}

/** One line for the benchmark's header. */
export const placementText = () =>
  enabled()
    ? `CPU placement: the server under test alone on CPU 0; load generator, backend and helpers on CPU ${HELPERS} (BENCH_PIN=0 to share)`
    : `CPU placement: none, every process shares every CPU (${process.env.BENCH_PIN === "0" ? "BENCH_PIN=0" : cpus < 2 ? "one CPU" : "no taskset"})`;
