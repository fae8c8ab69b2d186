import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    setupFiles: ["test/setup/reflect.ts"],
    globalSetup: ["test/setup/global.ts"],
    // Per test: generous, since many tests spawn processes and sockets and the CI machine runs four forks on two cores.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Most test files spend their time waiting on spawned processes, sockets, Redis and timers, not on the CPU:
    // two forks per core halve the run on the 2-core CI machine (measured: 347 s → 185 s).
    maxWorkers: Math.max(2, availableParallelism() * 2),
  },
});
