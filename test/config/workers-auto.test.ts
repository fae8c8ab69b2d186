import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { autoWorkerCount, cgroupCpuLimit } from "../../src/cpu-quota.js";

/**
 * `workers: "auto"` in a container: one worker per CPU the container may use (its cgroup v2 `cpu.max` quota), not
 * per core of the host. The cgroup file is a fixture here.
 */

let dir: string;
const fixture = async (name: string, text: string) => {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ofb-edge-cgroup-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("workers: auto", () => {
  it.each([
    ["150000 100000\n", 2],
    ["100000 100000\n", 1],
    ["50000 100000\n", 1],
    ["400000 100000\n", 4],
    ["250000 50000\n", 5],
  ])("cpu.max %j is a quota of %i CPUs (rounded up)", async (text, cpus) => {
    expect(cgroupCpuLimit(await fixture(`quota-${cpus}-${text.trim().replace(/\s/g, "_")}`, text))).toBe(cpus);
  });

  it("no quota ('max'), no file or an unreadable value: no limit", async () => {
    expect(cgroupCpuLimit(await fixture("max", "max 100000\n"))).toBeNull();
    expect(cgroupCpuLimit(join(dir, "absent"))).toBeNull();
    expect(cgroupCpuLimit(await fixture("garbage", "lots\n"))).toBeNull();
  });

  it("takes the smaller of the quota and the CPUs the process may run on", async () => {
    const twoCpus = await fixture("two", "150000 100000\n");
    expect(autoWorkerCount({ cpuMaxFile: twoCpus, parallelism: 16 })).toBe(2);
    expect(autoWorkerCount({ cpuMaxFile: await fixture("many", "3200000 100000\n"), parallelism: 4 })).toBe(4);
    expect(autoWorkerCount({ cpuMaxFile: await fixture("unlimited", "max 100000\n"), parallelism: 8 })).toBe(8);
    expect(autoWorkerCount({ cpuMaxFile: join(dir, "absent") })).toBe(availableParallelism());
  });
});
