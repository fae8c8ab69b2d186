import autocannon, { type Client as AutocannonClient, type Result } from "autocannon";
import { fork, type ChildProcess } from "node:child_process";
import { placeRole } from "./cpus.js";
import { randomUUID } from "node:crypto";
import { request } from "node:https";
import { BACKEND_BODY, BENCH_PATH, type FromChild, type Role, type RoleMemory, type RoleSpec, type RoleStats, type ToChild } from "./roles.js";

/** A server role running in its own process. */
export interface Child {
  /** A {@link Role}, or a role of another benchmark's script (bench/directory-roles.ts). */
  readonly role: Role | (string & {});
  readonly port: number;
  /** The child's process id (bench/anchors.ts reads its process tree from /proc). */
  readonly pid: number;
  stats(): Promise<RoleStats>;
  /** The child's `process.memoryUsage()` now. */
  memory(): Promise<RoleMemory>;
  /** Starts the child's CPU profiler; `profileStop` writes the profile to `file`. */
  profileStart(): Promise<void>;
  profileStop(file: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Forks `script` with a role argument and waits until its server listens. The child must serve the IPC
 * protocol of bench/roles.ts (`runRole`, or `serveRole` for another benchmark's roles and specs).
 */
export async function spawnRole(script: string, role: Child["role"], spec: RoleSpec | object): Promise<Child> {
  const proc = fork(script, [role, JSON.stringify(spec)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  placeRole(proc.pid, role);
  const first = await nextMessage(proc);
  if (first.type !== "ready") throw new Error(`${role} did not start: ${first.type === "error" ? first.message : first.type}`);
  const ask = async <T extends FromChild["type"]>(msg: ToChild, expect: T): Promise<Extract<FromChild, { type: T }>> => {
    // After a stop or a crash the channel is closed: fail this call rather than emit an unhandled 'error'.
    if (!proc.connected) throw new Error(`${role} is not running`);
    const reply = nextMessage(proc);
    const failed = new Promise<never>((_, reject) => proc.send(msg, (err) => err && reject(new Error(`${role}: ${err.message}`))));
    const got = await Promise.race([reply, failed]);
    if (got.type !== expect) throw new Error(`${role}: ${got.type === "error" ? got.message : `unexpected reply ${got.type}`}`);
    return got as Extract<FromChild, { type: T }>;
  };
  return {
    role,
    port: first.port,
    pid: proc.pid!,
    stats: async () => (await ask({ type: "stats" }, "stats")).stats,
    memory: async () => (await ask({ type: "memory" }, "memory")).memory,
    profileStart: async () => void (await ask({ type: "profile-start" }, "done")),
    profileStop: async (file) => void (await ask({ type: "profile-stop", file }, "done")),
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
      proc.send({ type: "stop" } satisfies ToChild);
      const timer = setTimeout(() => proc.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function nextMessage(proc: ChildProcess): Promise<FromChild> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => {
      proc.off("message", onMessage);
      reject(new Error(`child exited with code ${code}`));
    };
    const onMessage = (msg: FromChild) => {
      proc.off("exit", onExit);
      resolve(msg);
    };
    proc.once("message", onMessage);
    proc.once("exit", onExit);
  });
}

/** The load both servers get: the same client certificate chain, key, CA, headers and path. */
export interface LoadProfile {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer;
  readonly interactionId: string;
  /** `Authorization` field value sent with every request (`Bearer <token>`, bench/binding.ts); none when absent. */
  readonly authorization?: string;
  /** Another request than `GET` {@link BENCH_PATH} (bench/messages.ts); none when absent. */
  readonly request?: LoadRequest;
}

/** A request with a method, path, body and header fields; `[<id>]` in a field or the body is a fresh id per request. */
export interface LoadRequest {
  readonly method: "POST" | "PUT" | "PATCH";
  readonly path: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  /**
   * A distinct body and header fields for each request, built before the run (bench/messages.ts: a pre-signed message
   * and a fresh idempotency key), replacing `body` and adding to `headers`; autocannon takes it in `setupRequest`,
   * so the load generator does no signing in the measured run.
   */
  readonly next?: () => { readonly body: string; readonly headers: Readonly<Record<string, string>> };
  /** The response is not the backend's body (a signed response): only its status counts; the body is checked when absent. */
  readonly anyBody?: true;
}

/** autocannon's id replacement for a probe: a fresh value of the same shape per request. */
const freshIds = (text: string) => text.replace(/\[<id>\]/g, () => randomUUID().replaceAll("-", "").slice(0, 24));

export type Mode = "keep-alive" | "new-connection";

function headers(profile: LoadProfile, mode: Mode): Record<string, string> {
  return {
    accept: "application/json",
    "x-fapi-interaction-id": profile.interactionId,
    ...(profile.authorization !== undefined ? { authorization: profile.authorization } : {}),
    ...profile.request?.headers,
    // See oneRequestPerConnection. The parent proves it by counting server-side handshakes per request.
    ...(mode === "new-connection" ? { connection: "close" } : {}),
  };
}

/**
 * autocannon 9 has no "new connection per request" switch: its `reconnectRate` resets the connection before
 * recording the response, so nothing is counted. Instead the request says `Connection: close`; the server
 * closes after the response and autocannon reconnects on `end` and sends the next request on the new
 * connection. Left alone, autocannon also writes a request on the closing connection right after each
 * response; that request is never answered but stays in its queue, so every later latency would be measured
 * from the wrong start time. This hook skips that one write, leaving exactly one request per connection.
 */
function oneRequestPerConnection(client: AutocannonClient): void {
  const doRequest = client._doRequest;
  if (typeof doRequest !== "function") throw new Error("autocannon internals changed: Client#_doRequest is missing; bench/load.ts needs updating");
  let responded = false;
  // autocannon emits "response" and then immediately calls _doRequest on the same connection.
  client.on("response", () => {
    responded = true;
  });
  client._doRequest = function (this: AutocannonClient, ...args: unknown[]) {
    if (responded) {
      responded = false;
      return undefined;
    }
    return doRequest.apply(this, args);
  };
}

/** autocannon's `setupRequest` taking each request's body and added header fields from `next`. */
function setupFrom(next: NonNullable<LoadRequest["next"]>) {
  return (req: { headers?: Record<string, string> }) => {
    const { body, headers } = next();
    return { ...req, body, headers: { ...req.headers, ...headers } };
  };
}

/** One autocannon run against `port`. */
export function runLoad(port: number, profile: LoadProfile, mode: Mode, options: { connections: number; seconds: number }): Promise<Result> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `https://127.0.0.1:${port}${profile.request?.path ?? BENCH_PATH}`,
        connections: options.connections,
        duration: options.seconds,
        headers: headers(profile, mode),
        ...(profile.request ? { method: profile.request.method, body: profile.request.body, idReplacement: true } : {}),
        ...(profile.request?.next ? { requests: [{ method: profile.request.method, path: profile.request.path, setupRequest: setupFrom(profile.request.next) }] } : {}),
        tlsOptions: { cert: profile.cert, key: profile.key, ca: profile.ca, servername: "localhost" },
        ...(profile.request?.anyBody ? {} : { expectBody: BACKEND_BODY }),
        ...(mode === "new-connection" ? { setupClient: oneRequestPerConnection } : {}),
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
}

/** One request on a new connection, verifying the server certificate: what a correct run must return. */
export function probe(port: number, profile: LoadProfile, mode: Mode): Promise<{ status: number; body: string; interactionId: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: profile.request?.path ?? BENCH_PATH,
        method: profile.request?.method ?? "GET",
        servername: "localhost",
        cert: profile.cert,
        key: profile.key,
        ca: profile.ca,
        agent: false,
        headers: Object.fromEntries(Object.entries(headers(profile, mode)).map(([k, v]) => [k, freshIds(v)])),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const id = res.headers["x-fapi-interaction-id"];
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), interactionId: typeof id === "string" ? id : undefined });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(profile.request ? freshIds(profile.request.body) : undefined);
  });
}
