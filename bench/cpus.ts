import { execFileSync } from "node:child_process";
import { availableParallelism } from "node:os";

/**
 * CPU placement for the load benchmarks (`BENCH_PIN`, on by default where it can be): the server under test
 * (the edge, the baseline, or another benchmark's edge role) alone on the first CPU this process may use; the
 * load generator (the benchmark process), the backend, the mock Directory and Redis on the others. Sharing two cores, the backend's and
 * autocannon's work lands on the edge's core in proportion to what each configuration sends them (a profile
 * that adds 6 KB per request makes the backend parse 6 KB more), and the scheduler moves the edge between cores
 * from run to run; placed, the edge's throughput is its own. `BENCH_PIN=0` lets every process share every CPU.
 * Needs Linux `taskset` (util-linux) and at least two allowed CPUs; without either, nothing is placed.
 */

/** Roles that are the server under test; every other role is a helper. */
const isMeasured = (role: string) => role === "baseline" || role === "edge" || role.endsWith("-edge");

/** The CPUs this process may run on (`taskset -cp`: "pid 1's current affinity list: 0-3,6"); null without taskset. */
function allowedCpus(): number[] | null {
  let out: string;
  try {
    out = execFileSync("taskset", ["-cp", String(process.pid)], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  } catch {
    return null;
  }
  const list = out.slice(out.lastIndexOf(":") + 1).trim();
  return list.split(",").flatMap((part) => {
    const [from = NaN, to = from] = part.split("-").map(Number);
    return Array.from({ length: to - from + 1 }, (_, i) => from + i);
  });
}

/** The machine's CPUs, read before this process is placed (availableParallelism follows the affinity). */
export const cpus = availableParallelism();

type Placement = { readonly measured: string; readonly helpers: string };
let placement: Placement | null | undefined;
/** Decided once, in the benchmark process (the server children never place anything): the first allowed CPU for the server under test, the rest for the helpers. */
function placed(): Placement | null {
  if (placement !== undefined) return placement;
  const allowed = process.env.BENCH_PIN === "0" ? null : allowedCpus();
  placement = allowed && allowed.length >= 2 && allowed.every(Number.isInteger) ? { measured: String(allowed[0]), helpers: allowed.slice(1).join(",") } : null;
  return placement;
}

/** Moves every thread of `pid` to the role's CPUs. */
export function placeRole(pid: number | undefined, role: string): void {
  const p = placed();
  if (pid === undefined || p === null) return;
  execFileSync("taskset", ["-a", "-p", "-c", isMeasured(role) ? p.measured : p.helpers, String(pid)], { stdio: "ignore" });
}

/** Moves this process (the load generator) to the helpers' CPUs; processes it starts later inherit them. */
export function placeLoadGenerator(): void {
  const p = placed();
  if (p !== null) execFileSync("taskset", ["-a", "-p", "-c", p.helpers, String(process.pid)], { stdio: "ignore" });
}

/** One line for the benchmark's header. */
export function placementText(): string {
  const p = placed();
  if (p !== null) return `CPU placement: the server under test alone on CPU ${p.measured}; load generator, backend and helpers on CPU ${p.helpers} (BENCH_PIN=0 to share)`;
  const why = process.env.BENCH_PIN === "0" ? "BENCH_PIN=0" : "fewer than two CPUs allowed, or no taskset";
  return `CPU placement: none, every process shares every CPU (${why})`;
}
