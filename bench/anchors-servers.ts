import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, openSync, readdirSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { delimiter, join } from "node:path";
import { placeRole } from "./cpus.js";

/**
 * The servers of bench/anchors.ts that are not Node roles (nginx, HAProxy, `ofb-edge serve`), and what the
 * benchmark reads of any server's process tree from /proc: CPU time and RSS of the process and all its
 * descendants (nginx's and HAProxy's workers, the edge's cluster workers and primary).
 */

/** A server started as its own program: its top process, which `tree` follows down to every descendant. */
export interface ExternalServer {
  readonly name: string;
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

/** Fields of /proc/<pid>/stat after the command name (field 3 is index 0). */
function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

/** `pid` and every live descendant, from each process's parent in /proc. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const ppid = Number(statFields(Number(entry))?.[1]);
    if (!Number.isFinite(ppid)) continue;
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const tree: number[] = [];
  for (const queue = [pid]; queue.length > 0; ) {
    const next = queue.shift()!;
    tree.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return tree;
}

/**
 * User + system CPU of `pid`'s whole process tree, µs (utime + stime of /proc/<pid>/stat, in clock ticks of
 * 10 ms: over a 10 s run at one core that is 0.1 %). Descendants that exited during the run would be missed;
 * the servers here keep theirs.
 */
export function treeCpuMicros(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    const f = statFields(p);
    if (f) ticks += Number(f[11]) + Number(f[12]);
  }
  return (ticks * 1e6) / CLOCK_TICKS;
}

/**
 * CPU µs of every thread of the tree, keyed `<pid> <thread name>` (`node` is a process's main thread; libuv's
 * thread pool, V8's GC and compiler threads have their own names): where a server's CPU goes besides its event loop.
 */
export function treeThreadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of processTree(pid)) {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) {
      try {
        const stat = readFileSync(`/proc/${p}/task/${tid}/stat`, "utf8");
        const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")).replace(/[0-9]+$/, "");
        const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        const key = `${p} ${name}`;
        out.set(key, (out.get(key) ?? 0) + ((Number(f[11]) + Number(f[12])) * 1e6) / CLOCK_TICKS);
      } catch {
        // the thread ended
      }
    }
  }
  return out;
}

/**
 * Memory of each process of the tree, bytes: RSS (VmRSS of /proc/<pid>/status) and PSS (smaps_rollup: shared pages,
 * such as the node binary's code, divided among the processes that map them; what a worker adds to the machine).
 */
export function treeRss(pid: number): { pid: number; rss: number; pss: number }[] {
  return processTree(pid).flatMap((p) => {
    try {
      const kb = (text: string, field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? Number.NaN) * 1024;
      return [{ pid: p, rss: kb(readFileSync(`/proc/${p}/status`, "utf8"), "VmRSS"), pss: kb(readFileSync(`/proc/${p}/smaps_rollup`, "utf8"), "Pss") }];
    } catch {
      return [];
    }
  });
}

/** Places every thread of every process of the tree as the server under test (see bench/cpus.ts). */
export function placeTree(pid: number): void {
  for (const p of processTree(pid)) placeRole(p, "edge");
}

/** A free loopback port (the external servers take their port from their configuration). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A program on PATH or in /usr/sbin (where Debian puts nginx and haproxy, often not on a user's PATH); null when absent. */
export function findProgram(name: string): string | null {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/local/sbin"];
  for (const dir of dirs.filter(Boolean)) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not in this directory
    }
  }
  return null;
}

/** What the nginx and HAProxy configurations need: the test PKI's files and the backend. */
export interface AnchorTls {
  readonly cert: string;
  readonly key: string;
  /** The client trust anchors (the test PKI's root). */
  readonly anchors: string;
}

/**
 * Starts `argv` with stdout to /dev/null (a server's log is written and paid for, as the edge's is), waits until
 * `port` accepts TCP connections, and places its tree as the server under test.
 */
async function startProgram(name: string, argv: readonly string[], port: number, options: { env?: NodeJS.ProcessEnv; ready?: (stderr: string) => boolean } = {}): Promise<ExternalServer> {
  const devNull = openSync("/dev/null", "w");
  const proc: ChildProcess = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", devNull, "pipe"], env: { ...process.env, ...options.env } });
  let stderr = "";
  proc.stderr!.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`${name} exited during start-up (${proc.exitCode ?? proc.signalCode}): ${stderr.trim()}`);
    if ((options.ready ? options.ready(stderr) : true) && (await accepts(port))) break;
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`${name} did not listen on ${port} within 60 s: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  placeTree(proc.pid!);
  return {
    name,
    port,
    pid: proc.pid!,
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

// Both configurations follow the OFB security profile ("Secure use of TLS": "TLS session resumption and TLS
// renegotiation shall be disabled"): no session cache and no tickets, so every connection is a full handshake,
// as on the edge; TLS 1.3 only, the client certificate required and verified against the same anchors.

/** nginx, 2 worker processes, mTLS, access log on (to /dev/null), keep-alive to the backend. */
export async function startNginx(bin: string, dir: string, tls: AnchorTls, backendPort: number): Promise<ExternalServer> {
  const port = await freePort();
  const conf = join(dir, "nginx.conf");
  await writeFile(
    conf,
    `worker_processes 2;
daemon off;
pid ${dir}/nginx.pid;
error_log stderr warn;
events { worker_connections 4096; }
http {
  client_body_temp_path ${dir}/nginx-body;
  proxy_temp_path ${dir}/nginx-proxy;
  fastcgi_temp_path ${dir}/nginx-fastcgi;
  uwsgi_temp_path ${dir}/nginx-uwsgi;
  scgi_temp_path ${dir}/nginx-scgi;
  access_log /dev/null combined;
  keepalive_requests 1000000;
  upstream backend { server 127.0.0.1:${backendPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${tls.cert};
    ssl_certificate_key ${tls.key};
    ssl_client_certificate ${tls.anchors};
    ssl_verify_client on;
    ssl_verify_depth 4;
    ssl_protocols TLSv1.3;
    ssl_session_cache off;
    ssl_session_tickets off;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert;
    }
  }
}
`,
  );
  return startProgram("nginx", [bin, "-p", dir, "-c", conf, "-e", "stderr"], port);
}

/** HAProxy, 2 threads, mTLS, HTTP log on (to stdout, /dev/null), keep-alive to the backend. */
export async function startHaproxy(bin: string, dir: string, tls: AnchorTls, backendPort: number): Promise<ExternalServer> {
  const port = await freePort();
  const pem = join(dir, "haproxy.pem");
  await writeFile(pem, readFileSync(tls.cert, "utf8") + readFileSync(tls.key, "utf8"));
  const conf = join(dir, "haproxy.cfg");
  await writeFile(
    conf,
    `global
  nbthread 2
  maxconn 4096
  log stdout format raw local0
  tune.ssl.cachesize 0
  ssl-default-bind-options ssl-min-ver TLSv1.3 no-tls-tickets
defaults
  mode http
  log global
  option httplog
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  timeout http-keep-alive 30s
  http-reuse always
frontend fe
  bind 127.0.0.1:${port} ssl crt ${pem} ca-file ${tls.anchors} verify required
  http-request set-header X-SSL-Client-Cert %[ssl_c_der,base64]
  default_backend be
backend be
  server backend 127.0.0.1:${backendPort}
`,
  );
  return startProgram("haproxy", [bin, "-db", "-f", conf], port);
}

/** `ofb-edge serve` (the compiled CLI, `bin` its path) on `config`, stdout (the JSON log) to /dev/null. */
export async function startEdgeServe(bin: string, dir: string, config: Record<string, unknown> & { listeners: [{ port: number } & Record<string, unknown>] }, profDir?: string): Promise<ExternalServer> {
  const file = join(dir, "edge.json");
  await writeFile(file, JSON.stringify(config));
  // The cluster's workers inherit the primary's execArgv: each process writes its own profile when it exits.
  const prof = profDir ? ["--cpu-prof", `--cpu-prof-dir=${profDir}`] : [];
  const server = await startProgram("edge", [process.execPath, ...prof, bin, "serve", "--config", file], config.listeners[0].port, { ready: (stderr) => stderr.includes("ofb-edge is listening on") });
  return { ...server, name: "edge" };
}
