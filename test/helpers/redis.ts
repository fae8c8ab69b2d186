import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import { Redis } from "ioredis";
import { inject } from "vitest";
import type { Organisation, Snapshot, SnapshotMeta } from "../../src/directory/types.js";
import { freePort } from "./backend.js";

/** The run's shared Redis (`REDIS_URL`, or the `redis-server` test/setup/global.ts started). */
export function redisUrl(): string {
  return inject("redisUrl");
}

/** A key prefix no other test uses, so tests share one Redis without seeing each other's keys. */
export function uniquePrefix(): string {
  return `t:${randomBytes(6).toString("hex")}:`;
}

/** Deletes every key under `prefix` (tests clean up after themselves when `REDIS_URL` names a shared Redis). */
export async function deletePrefix(url: string, prefix: string): Promise<void> {
  const client = await rawRedis(url);
  try {
    let cursor = "0";
    do {
      const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      if (keys.length) await client.unlink(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    await client.quit();
  }
}

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  /** SIGKILLs the server (no shutdown, no save) and waits until it has exited. */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty (nothing is persisted). */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT: a Redis that hangs with its connections open, then resumes. */
  freeze(): void;
  thaw(): void;
}

/**
 * Starts a private `redis-server` on its own port, without persistence, for tests that kill or restart it.
 * The binary is `redis-server` on PATH (override with `REDIS_SERVER`).
 */
export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  let child = await spawnServer(port);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGKILL");
        await exited;
      }
    },
    restart: async () => {
      child = await spawnServer(port);
    },
    freeze: () => void child.kill("SIGSTOP"),
    thaw: () => void child.kill("SIGCONT"),
  };
}

async function spawnServer(port: number): Promise<ChildProcess> {
  const bin = process.env.REDIS_SERVER ?? "redis-server";
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning"];
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (b: Buffer) => void (output += b.toString()));
  child.stderr?.on("data", (b: Buffer) => void (output += b.toString()));
  let exit: string | undefined;
  child.once("error", (err) => void (exit = err.message));
  child.once("exit", (code, signal) => void (exit ??= `exited (${code ?? signal})`));
  const deadline = Date.now() + 10_000;
  while (!(await answersPing(port))) {
    if (exit) throw new Error(`${bin} on port ${port} ${exit}: ${output.trim().slice(-500)}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${bin} on port ${port} did not answer PING within 10 s: ${output.trim().slice(-500)}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return child;
}

/** One inline PING over a fresh socket; true on `+PONG`. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    let reply = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (b: Buffer) => {
      reply += b.toString();
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"));
    });
  });
}

// Directory-store fixtures: what the store tests publish and observe.

/** An organisation as the Directory parser produces it (lower-case id, CNPJ without punctuation). */
export function org(id: string, registrationNumber: string, status = "Active", name = `Org ${id.slice(0, 8)}`): Organisation {
  return { id, status, name, registrationNumber, roles: [{ role: "DADOS", status: "Active", domain: "Open Banking Brasil" }] };
}

export function snapshot(version: string, organisations: readonly Organisation[], fetchedAt = 1_700_000_000_000): Snapshot {
  const meta: SnapshotMeta = { version, fetchedAt, etag: `"${version}"`, lastModified: null, organisations: organisations.length, source: "https://directory.test/participants" };
  return { meta, organisations };
}

/** `count` organisations with distinct ids and CNPJs, each carrying `padding` bytes of name (a large publish). */
export function manyOrgs(count: number, tag: string, padding = 0): Organisation[] {
  return Array.from({ length: count }, (_, i) => {
    const n = String(i).padStart(8, "0");
    return org(`${n}-0000-4000-8000-${tag.padStart(12, "0")}`, `${String(10_000_000 + i)}000195`, "Active", `${tag} ${n} ${"x".repeat(padding)}`);
  });
}

/** Resolves with the first meta `store.onChange` reports that matches, or rejects after `ms`. */
export function nextChange(store: { onChange(l: (m: SnapshotMeta) => void): () => void }, match: (m: SnapshotMeta) => boolean, ms = 3_000): Promise<SnapshotMeta> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no matching change within ${ms} ms`));
    }, ms);
    const off = store.onChange((m) => {
      if (!match(m)) return;
      clearTimeout(timer);
      off();
      resolve(m);
    });
  });
}

/** A plain ioredis connection for inspecting and tampering with Redis behind a store's back. */
export async function rawRedis(url: string): Promise<Redis> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  return client;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
