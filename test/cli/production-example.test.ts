import { spawn, type ChildProcess } from "node:child_process";
import { copyFile, mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { freePort } from "../helpers/backend.js";
import { errorCode, readmeProductionCommands, readmeRequests, runReadmeRequest, type ReadmeRequest } from "../helpers/readme.js";

/**
 * The README's production shape, started as its "The production shape, natively" section says — each command read
 * from README.md and run in its own process from a folder laid out like a clone (only the ports differ, so that the
 * test runs beside anything else) — enforces everything the embedded default does: every request of the Quick start
 * gets the answer the README promises, the backend printing nothing for a refusal, and the token it issues lets
 * participant-a through.
 */

const ROOT = resolve(import.meta.dirname, "../..");

interface Service {
  readonly name: string;
  readonly child: ChildProcess;
  readonly lines: string[];
}

let top: string;
const services: Service[] = [];
let ports: Record<"redis" | "directory" | "authorizationServer" | "echo" | "edge" | "admin", number>;

/** Runs `command` from the clone-like folder; resolves once a stdout line starts with `ready` (or at exit 0 when null). */
function start(name: string, command: string, ready: string | null, env: Record<string, string> = {}): Promise<Service> {
  const child = spawn("sh", ["-c", ready === null ? command : `exec ${command}`], { cwd: top, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const service = { name, child, lines: [] as string[] };
  if (ready !== null) services.push(service);
  let stderr = "";
  return new Promise((resolveStarted, fail) => {
    const timer = setTimeout(() => fail(new Error(`${name} (${command}) did not start within 40 s: ${stderr}`)), 40_000);
    // The edge announces itself on stderr (stdout is its JSON log); the development services on stdout.
    const seen = (line: string) => {
      if (ready !== null && line.includes(ready)) {
        clearTimeout(timer);
        resolveStarted(service);
      }
    };
    createInterface({ input: child.stdout! }).on("line", (line) => {
      service.lines.push(line);
      seen(line);
    });
    createInterface({ input: child.stderr! }).on("line", (line) => {
      stderr += `${line}\n`;
      seen(line);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      if (ready === null && code === 0) resolveStarted(service);
      else fail(new Error(`${name} (${command}) exited with ${code}: ${stderr}`));
    });
  });
}

/** Each README command, with the ports this test uses instead of the README's fixed ones. */
async function startAsTheReadmeSays(): Promise<void> {
  const commands = readmeProductionCommands();
  const url = (port: number) => `http://127.0.0.1:${port}`;
  for (const command of commands) {
    if (command.startsWith("redis-server ")) await start("redis", `${command} --port ${ports.redis}`, "Ready to accept connections");
    else if (command.includes(" pki init")) await start("pki init", `${command} --crl-base-url ${url(ports.directory)}/crl/`, null);
    else if (command.endsWith(" directory mock")) await start("directory", `${command} --port ${ports.directory}`, "Mock OFB Directory serving");
    else if (command.endsWith(" dev authorization-server")) await start("authorization-server", `${command} --port ${ports.authorizationServer}`, "Authorization-server stub");
    else if (command.includes(" dev echo-backend --port 8080")) await start("echo", command.replace("--port 8080", `--port ${ports.echo}`), "echo backend listening");
    else if (command.endsWith(" serve --config examples/edge-redis.json"))
      await start("edge", command, "ofb-edge is listening", {
        OFB_EDGE_WORKERS: "2",
        OFB_EDGE_LISTENER_EDGE_PORT: String(ports.edge),
        OFB_EDGE_ADMIN_PORT: String(ports.admin),
        REDIS_URL: `redis://127.0.0.1:${ports.redis}`,
        OFB_EDGE_ROUTE_OPEN_BANKING_UPSTREAM: url(ports.echo),
        OFB_EDGE_ROUTE_WELL_KNOWN_UPSTREAM: url(ports.echo),
        OFB_EDGE_DIRECTORY_PARTICIPANTS_URL: `${url(ports.directory)}/participants`,
        OFB_EDGE_DIRECTORY_KEYSTORE_URL: `${url(ports.directory)}/keystore/`,
        OFB_EDGE_AUTHORIZATION_SERVER_ISSUER: url(ports.authorizationServer),
      });
    else throw new Error(`README.md starts a service this test does not know: ${command}`);
  }
  expect(services.map((s) => s.name)).toEqual(["redis", "directory", "authorization-server", "echo", "edge"]);
}

const backendLines = () => services.find((s) => s.name === "echo")!.lines.filter((l) => /^[A-Z]+ \//.test(l));

beforeAll(async () => {
  top = await mkdtemp(join(tmpdir(), "ofb-edge-production-"));
  await mkdir(join(top, "examples"));
  await copyFile(join(ROOT, "examples/edge-redis.json"), join(top, "examples/edge-redis.json"));
  await symlink(join(ROOT, "bin"), join(top, "bin"));
  ports = { redis: await freePort(), directory: await freePort(), authorizationServer: await freePort(), echo: await freePort(), edge: await freePort(), admin: await freePort() };
  await startAsTheReadmeSays();
}, 120_000);

afterAll(async () => {
  // Ctrl-C in each terminal, the edge first.
  for (const s of services.reverse()) {
    if (s.child.exitCode !== null) continue;
    const exited = new Promise((r) => s.child.once("exit", r));
    s.child.kill("SIGINT");
    await exited;
  }
  await rm(top, { recursive: true, force: true });
});

describe("the README's production shape (examples/edge-redis.json and its services)", () => {
  it("is ready: a Directory snapshot in Redis, the root's CRL", async () => {
    await vi.waitFor(async () => {
      const res = await fetch(`http://127.0.0.1:${ports.admin}/readyz`);
      expect(res.status).toBe(200);
    });
  });

  it("lets participant-a through with the token the authorization server wrote, and the backend says what it received", async () => {
    const withoutToken = readmeRequests().find((r) => r.expect !== "handshake-fails" && r.expect.code === "TOKEN_MISSING")!;
    const accepted: Pick<ReadmeRequest, "setup" | "command"> = { setup: withoutToken.setup, command: `${withoutToken.command} -H "Authorization: Bearer $(cat $T/participant-a.jwt)"` };
    const before = backendLines().length;
    const res = await runReadmeRequest(accepted, { cwd: top, port: ports.edge });
    expect(res.status).toBe(200);
    const { received } = JSON.parse(res.body) as { received: { headers: string[] } };
    expect(received.headers).toContain("x-ofb-roles: DADOS,PAGTO");
    await vi.waitFor(() => expect(backendLines().slice(before)).toEqual(["GET /open-banking/accounts/v2/accounts"]));
  });

  it.each(readmeRequests().map((r) => [r.comment, r] as const))("the README's request: %s", async (_comment, request) => {
    const before = backendLines().length;
    const res = await runReadmeRequest(request, { cwd: top, port: ports.edge });
    if (request.expect === "handshake-fails") {
      expect(res.exitCode).not.toBe(0);
      expect(res.status).toBeNull();
    } else {
      expect({ status: res.status, code: errorCode(res.body) }).toEqual(request.expect);
    }
    expect(backendLines().length).toBe(before);
  });
});
