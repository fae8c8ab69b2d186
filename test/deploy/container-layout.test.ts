import { execFile, spawn } from "node:child_process";
import { chmod, chown, cp, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { networkInterfaces, tmpdir } from "node:os";
import { dirname, join, posix, relative, resolve } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { freePort } from "../helpers/backend.js";
import { envAssignments, execForm, readDockerfile, type Stage } from "../helpers/dockerfile.js";

/**
 * The container image without a Docker engine: the runtime stage of the Dockerfile is read instruction by instruction
 * and its layout built in a temporary folder standing for its WORKDIR — the files it COPYs from the context and from
 * the build stage (the `dist/` that `npm test` built, as the build stage's `npm ci` builds it), the production
 * dependencies its `npm ci --omit=dev` installs, the folders its RUN creates and hands to the image's user. Then the
 * image's own commands run there as that user (uid 1000 through setuid when the test runs as root, as CI does; else
 * as the current, unprivileged user) with the image's environment: the entry command serves a request through a
 * non-loopback address, the health check passes, and the image's `conformance` runs against it and writes its reports. A step the test does not know
 * fails it, so the Dockerfile cannot drift from what is proven here.
 */

const ROOT = resolve(import.meta.dirname, "../..");
const run = promisify(execFile);
const asRoot = process.getuid?.() === 0;

interface Layout {
  readonly dir: string;
  readonly env: Record<string, string>;
  readonly uid: number;
  readonly gid: number;
  readonly entrypoint: string[];
  readonly cmd: string[];
  readonly healthcheck: string[];
  readonly exposed: number[];
  /** Folders the RUN steps created for the image's user: the only places it may write. */
  readonly writable: string[];
}

const stages = readDockerfile(join(ROOT, "Dockerfile"));
const runtime = stages.at(-1)!;

/** Top-level names `.dockerignore` keeps out of the build context. */
async function ignored(): Promise<string[]> {
  return (await readFile(join(ROOT, ".dockerignore"), "utf8")).split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
}

/** Copies what `npm ci --omit=dev` would install: the packages `npm ls --omit=dev` lists, from the shared install. */
async function installProductionDependencies(dir: string): Promise<void> {
  const { stdout } = await run("npm", ["ls", "--omit=dev", "--all", "--parseable"], { cwd: ROOT, maxBuffer: 16 << 20 });
  const packages = stdout.split("\n").slice(1).filter(Boolean);
  expect(packages.length).toBeGreaterThan(10);
  for (const pkg of packages) await cp(pkg, join(dir, "node_modules", relative(join(ROOT, "node_modules"), pkg)), { recursive: true, dereference: true });
}

/** Builds the runtime stage's layout in `dir` (standing for its WORKDIR). */
async function buildLayout(dir: string, build: Stage): Promise<Layout> {
  let workdir: string | undefined;
  const env: Record<string, string> = {};
  const writable: string[] = [];
  let user: { uid: number; gid: number } | undefined;
  let entrypoint: string[] = [];
  let cmd: string[] = [];
  let healthcheck: string[] = [];
  const exposed: number[] = [];
  const inLayout = (p: string) => {
    const abs = posix.isAbsolute(p) ? p : posix.join(workdir!, p);
    if (!abs.startsWith(`${workdir}/`) && abs !== workdir) throw new Error(`the runtime stage writes outside its WORKDIR ${workdir}: ${p}`);
    return join(dir, posix.relative(workdir!, abs));
  };
  const dockerignore = await ignored();
  const buildWorkdir = build.instructions.find((i) => i.keyword === "WORKDIR")?.args;
  for (const { keyword, flags, args } of runtime.instructions) {
    switch (keyword) {
      case "WORKDIR":
        if (workdir !== undefined || !posix.isAbsolute(args)) throw new Error(`one absolute WORKDIR expected, got ${args}`);
        workdir = args;
        break;
      case "ENV":
        Object.assign(env, envAssignments(args));
        break;
      case "COPY": {
        const parts = args.split(/\s+/);
        const dest = parts.pop()!;
        for (const source of parts) {
          let from: string;
          if (flags.from !== undefined) {
            // From the build stage: what its `npm ci` compiled, i.e. the dist/ that `npm test` built here.
            expect(flags.from).toBe(build.name);
            expect(source.startsWith(`${buildWorkdir}/dist/`), source).toBe(true);
            from = join(ROOT, posix.relative(buildWorkdir!, source));
          } else {
            expect(dockerignore, `${source} is kept out of the build context`).not.toContain(source);
            from = join(ROOT, source);
          }
          const to = dest.endsWith("/") ? join(inLayout(dest), posix.basename(source)) : inLayout(dest);
          await mkdir(dirname(to), { recursive: true });
          await cp(from, to, { recursive: true });
        }
        break;
      }
      case "RUN": {
        const mkdirChown = /^mkdir -p (.+?) && chown (\d+):(\d+) (.+)$/.exec(args);
        if (/^npm ci --omit=dev --ignore-scripts\b/.test(args)) await installProductionDependencies(dir);
        else if (mkdirChown) {
          const made = mkdirChown[1]!.split(/\s+/);
          expect(mkdirChown[4]!.split(/\s+/)).toEqual(made);
          for (const p of made) {
            await mkdir(inLayout(p), { recursive: true });
            if (asRoot) await chown(inLayout(p), Number(mkdirChown[2]), Number(mkdirChown[3]));
            writable.push(inLayout(p));
          }
        } else throw new Error(`a RUN step of the runtime stage this test does not know how to reproduce: ${args}`);
        break;
      }
      case "USER": {
        const numeric = /^(\d+):(\d+)$/.exec(args);
        if (!numeric) throw new Error(`USER must be numeric uid:gid (Kubernetes runAsNonRoot verifies it), got ${args}`);
        user = { uid: Number(numeric[1]), gid: Number(numeric[2]) };
        break;
      }
      case "EXPOSE":
        exposed.push(...args.split(/\s+/).map(Number));
        break;
      case "HEALTHCHECK":
        healthcheck = execForm(args.replace(/^CMD\s+/, ""), "HEALTHCHECK CMD");
        break;
      case "ENTRYPOINT":
        entrypoint = execForm(args, "ENTRYPOINT");
        break;
      case "CMD":
        cmd = execForm(args, "CMD");
        break;
      default:
        throw new Error(`an instruction of the runtime stage this test does not know: ${keyword} ${args}`);
    }
  }
  if (!user) throw new Error("the runtime stage has no USER: it would run as root");
  return { dir, env, ...user, entrypoint, cmd, healthcheck, exposed, writable };
}

/** The layout as the image's user sees it: root's folders read-only, the RUN-made ones its own. */
async function lockDown(layout: Layout): Promise<void> {
  await chmod(layout.dir, 0o755);
  if (!asRoot) await chmod(layout.dir, 0o555);
}

let layout: Layout;

beforeAll(async () => {
  const build = stages.find((s) => s.name === "build");
  if (!build) throw new Error("the Dockerfile has no stage named build");
  layout = await buildLayout(await mkdtemp(join(tmpdir(), "ofb-edge-image-")), build);
  await lockDown(layout);
}, 60_000);

afterAll(async () => {
  if (layout) {
    await chmod(layout.dir, 0o755);
    await rm(layout.dir, { recursive: true, force: true });
  }
});

/** Runs `argv` in the layout as the image's user, with the image's environment plus `env`. */
function asImageUser(argv: string[], env: Record<string, string> = {}) {
  return spawn(argv[0]!, argv.slice(1), {
    cwd: layout.dir,
    env: { PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`, HOME: layout.dir, ...layout.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    ...(asRoot && { uid: layout.uid, gid: layout.gid }),
  });
}

function exitOf(child: ReturnType<typeof asImageUser>): Promise<number | null> {
  return new Promise((r) => (child.exitCode !== null ? r(child.exitCode) : child.once("exit", (code) => r(code))));
}

/** An address of this machine other than loopback: what `docker run -p` forwards to. */
function externalAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === "IPv4" && !a.internal)?.address;
}

describe("the container image (Dockerfile runtime stage), without Docker", () => {
  it("runs as a numeric, non-root user; exposes the listener and the admin port; entry command and health check in exec form", () => {
    expect(layout.uid).not.toBe(0);
    expect(layout.gid).not.toBe(0);
    expect(layout.exposed).toEqual([8443, 9090]);
    expect([...layout.entrypoint, ...layout.cmd]).toEqual(["node", "bin/ofb-edge.js", "serve"]);
    expect(layout.healthcheck[0]).toBe("node");
    expect(layout.env.OFB_EDGE_EMBEDDED_HOST).toBe("0.0.0.0");
  });

  it("the build stage compiles every folder the runtime stage takes from its dist/", async () => {
    const build = stages.find((s) => s.name === "build")!;
    const copied = build.instructions.filter((i) => i.keyword === "COPY").flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    const fromBuild = runtime.instructions.filter((i) => i.keyword === "COPY" && i.flags.from === "build").map((i) => /\/dist\/([^/\s]+)/.exec(i.args)![1]!);
    expect(fromBuild).toEqual(["src", "conformance"]);
    const tsconfig = JSON.parse(await readFile(join(ROOT, "tsconfig.build.json"), "utf8")) as { include: string[] };
    for (const folder of fromBuild) {
      expect(copied, `the build stage copies ${folder}/`).toContain(folder);
      expect(tsconfig.include).toContain(folder);
    }
    expect(build.instructions.some((i) => i.keyword === "RUN" && /^npm ci\b/.test(i.args) && !i.args.includes("--ignore-scripts"))).toBe(true);
  });

  it(`the image's command, as uid ${asRoot ? 1000 : "of this (non-root) user"}: the embedded default on 0.0.0.0 serves a request through a non-loopback address, the health check passes, \`conformance\` runs against it and writes its reports, SIGTERM stops it`, async () => {
    // The run's test PKI where the embedded default keeps its own, as its user would have written it (generating one
    // takes seconds): the default command then writes only its token there.
    const state = join(layout.dir, ".ofb-edge");
    await cp(inject("pkiDir"), join(state, "pki"), { recursive: true });
    if (asRoot) await run("chown", ["-R", `${layout.uid}:${layout.gid}`, state]);
    const [port, adminPort] = [await freePort(), await freePort()];
    // Only the ports differ from the image (docker run -p maps them anyway).
    const env = { OFB_EDGE_LISTENER_EDGE_PORT: String(port), OFB_EDGE_ADMIN_PORT: String(adminPort) };
    const child = asImageUser([...layout.entrypoint, ...layout.cmd], env);
    // stdout: the JSON log; stderr: the banner with the curl command, and errors.
    const lines: string[] = [];
    const banner: string[] = [];
    createInterface({ input: child.stdout! }).on("line", (line) => lines.push(line));
    const curl = await new Promise<string>((resolveLine, reject) => {
      const timer = setTimeout(() => reject(new Error(`no curl line within 60 s: ${lines.join("\n")} ${banner.join("\n")}`)), 60_000);
      createInterface({ input: child.stderr! }).on("line", (line) => {
        banner.push(line);
        if (line.startsWith("curl ")) {
          clearTimeout(timer);
          resolveLine(line);
        }
      });
      child.once("exit", (code) => reject(new Error(`the image's command exited with ${code}: ${banner.join("\n")}`)));
    });
    try {
      const listening = () => lines.map((l) => (l.startsWith("{") ? (JSON.parse(l) as Record<string, unknown>) : {})).filter((l) => l.msg === "listening");
      await vi.waitFor(() => expect(listening().map((l) => l.host)).toContain("0.0.0.0"));
      expect(banner.join("\n")).toContain(`https://0.0.0.0:${port}`);
      // The printed request, as printed, from the image's WORKDIR; sent to a non-loopback address of this machine.
      const address = externalAddress() ?? "127.0.0.1";
      const { stdout } = await run("sh", ["-c", `${curl} --resolve localhost:${port}:${address} --silent --show-error --fail-with-body`], { cwd: layout.dir });
      expect((JSON.parse(stdout) as { received: { path: string } }).received.path).toBe("/open-banking/accounts/v2/accounts");
      expect(await exitOf(asImageUser(layout.healthcheck, env))).toBe(0);

      // The conformance suite of the image (dist/conformance), against the image's edge, reports in reports/.
      const conformance = asImageUser([...layout.entrypoint, "conformance", "--target", `https://localhost:${port}`, "--ca", ".ofb-edge/pki/ca/trust-anchors.pem", "--only", "tls"]);
      let output = "";
      conformance.stdout!.on("data", (d: Buffer) => (output += d.toString("utf8")));
      conformance.stderr!.on("data", (d: Buffer) => (output += d.toString("utf8")));
      expect(await exitOf(conformance), output).toBe(0);
      const report = JSON.parse(await readFile(join(layout.dir, "reports/conformance/report.json"), "utf8")) as { scenarios?: { status: string }[] };
      expect(JSON.stringify(report)).toContain("tls13-accepted");
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exitOf(child)).toBe(0);
    // Nothing answers any more: the health check says so.
    expect(await exitOf(asImageUser(layout.healthcheck, env))).toBe(1);
    // It wrote only where the image lets it.
    expect(layout.writable.map((w) => relative(layout.dir, w))).toEqual([".ofb-edge", "reports"]);
  }, 90_000);
});
