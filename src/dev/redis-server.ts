import { spawn, type ChildProcess } from "node:child_process";
import { connect } from "node:net";
import { freeTcpPort } from "../http/listen.js";

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

/** Options of {@link startRedisServer}. */
export interface RedisServerOptions {
  /** A configuration file, given first (a Sentinel needs one it can rewrite). */
  readonly configFile?: string;
  /** Arguments after the defaults (`--cluster-enabled yes`, `--replicaof …`, `--sentinel`); a later one wins. */
  readonly args?: readonly string[];
}

/**
 * Starts a private `redis-server` on its own port, without persistence, for tests and the local conformance stack.
 * The binary is `redis-server` on PATH (override with `REDIS_SERVER`).
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = await freeTcpPort();
  const spawnServer = () => spawnRedisServer(port, options);
  let child = await spawnServer();
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
      child = await spawnServer();
    },
    freeze: () => void child.kill("SIGSTOP"),
    thaw: () => void child.kill("SIGCONT"),
  };
}

async function spawnRedisServer(port: number, options: RedisServerOptions): Promise<ChildProcess> {
  const bin = process.env.REDIS_SERVER ?? "redis-server";
  const args = [
    ...(options.configFile ? [options.configFile] : []),
    ...["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning"],
    ...(options.args ?? []),
  ];
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

