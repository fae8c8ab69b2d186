import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { Redis } from "ioredis";

/** A private, throw-away `redis-server` (no persistence) and an admin connection to it. */
export interface BenchRedis {
  readonly url: string;
  readonly admin: Redis;
  /** `INFO memory` `used_memory`, bytes. */
  usedMemory(): Promise<number>;
  /** Stops the server (SIGKILL: nothing to save) and waits for it; safe to call more than once. */
  stop(): Promise<void>;
  /** Synchronous last resort for `process.on("exit")`. */
  kill(): void;
}

const BINARY = process.env.REDIS_SERVER ?? "/usr/bin/redis-server";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts `redis-server` on a free port with `--save "" --appendonly no` and waits until it answers PING. */
export async function startBenchRedis(): Promise<BenchRedis> {
  const port = await freePort();
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning"];
  const child: ChildProcess = spawn(BINARY, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (b: Buffer) => void (stderr = (stderr + b.toString()).slice(-500)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let failure: string | undefined;
  child.once("error", (err) => void (failure = err.message));
  child.once("exit", (code, signal) => void (failure ??= `exited (${code ?? signal}) ${stderr.trim()}`));
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };

  const url = `redis://127.0.0.1:${port}`;
  const admin = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  admin.on("error", () => undefined);
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (failure) throw new Error(`${BINARY} on port ${port}: ${failure}`);
    try {
      await admin.connect();
      if ((await admin.ping()) === "PONG") break;
    } catch {
      admin.disconnect();
    }
    if (Date.now() > deadline) {
      kill();
      throw new Error(`${BINARY} on port ${port} did not answer PING within 10 s`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  return {
    url,
    admin,
    async usedMemory() {
      const info = await admin.info("memory");
      const m = /^used_memory:(\d+)\r?$/m.exec(info);
      if (!m) throw new Error("INFO memory has no used_memory");
      return Number(m[1]);
    },
    async stop() {
      admin.disconnect();
      kill();
      await exited;
    },
    kill,
  };
}
