import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { parseConfig } from "../../src/config/load.js";
import { terminatesTls } from "../../src/config/schema.js";

/**
 * docker-compose.yml, read (nothing here can run Docker): every service runs as the same non-root user, the state
 * folder is a bind mount Docker must not create (it would belong to root) and only the services that write mount it
 * writable, every service reports its health and starts after what it needs is healthy, the edge's published ports
 * reach listeners bound to 0.0.0.0 in examples/edge-redis.json as the edge's environment overrides it, and the
 * addresses it is given are the other services' own.
 */

const ROOT = resolve(import.meta.dirname, "../..");

interface Service {
  readonly build?: string;
  readonly image?: string;
  readonly user?: string;
  readonly command?: string[];
  readonly entrypoint?: string[];
  readonly environment?: Record<string, string>;
  readonly ports?: string[];
  readonly volumes?: { type: string; source: string; target: string; read_only?: boolean; bind?: { create_host_path?: boolean } }[];
  readonly healthcheck?: { test?: string[]; disable?: boolean };
  readonly depends_on?: Record<string, { condition: string }>;
  readonly stop_grace_period?: string;
}

const compose = parseYaml(readFileSync(join(ROOT, "docker-compose.yml"), "utf8")) as { services: Record<string, Service> };
const services = compose.services;
const names = Object.keys(services);

/** `${VAR:-default}` as Compose interpolates it with VAR unset. */
const withDefaults = (value: string) => value.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, "$1");

/** `--flag value` from a command line. */
const option = (argv: readonly string[] | undefined, flag: string) => {
  const at = argv?.indexOf(flag) ?? -1;
  return at < 0 ? undefined : argv![at + 1];
};

const seconds = (duration: string) => {
  const m = /^(\d+)s$/.exec(duration);
  if (!m) throw new Error(`a duration in seconds expected, got ${duration}`);
  return Number(m[1]);
};

describe("docker-compose.yml", () => {
  it("every service runs as one user, never root, by default the image's uid 1000", () => {
    const users = names.map((n) => services[n]!.user);
    expect(users.filter((u) => u === undefined), "a service without user: runs as its image's user, root for redis").toEqual([]);
    expect(new Set(users).size).toBe(1);
    const [uid, gid] = withDefaults(users[0]!).split(":").map(Number);
    expect([uid, gid]).toEqual([1000, 1000]);
    expect(users[0]).toMatch(/^\$\{OFB_EDGE_UID:-1000\}:\$\{OFB_EDGE_GID:-1000\}$/);
  });

  it("the ofb-edge services are built from this repository's Dockerfile, as one image", () => {
    const ours = names.filter((n) => services[n]!.image !== "redis:7-bookworm");
    expect(ours.sort()).toEqual(["authorization-server", "directory", "echo", "edge", "pki"]);
    for (const n of ours) expect([n, services[n]!.build, services[n]!.image]).toEqual([n, ".", "ofb-edge:local"]);
  });

  it("the state folder: a bind mount Docker must not create; writable only where the test PKI and the token are written", () => {
    const mounts = names.flatMap((n) => (services[n]!.volumes ?? []).map((v) => ({ service: n, ...v })));
    for (const m of mounts) {
      expect([m.service, m.type, m.source, m.target, m.bind?.create_host_path]).toEqual([m.service, "bind", "./.ofb-edge/compose", "/app/.ofb-edge", false]);
    }
    expect(mounts.filter((m) => !m.read_only).map((m) => m.service).sort()).toEqual(["authorization-server", "pki"]);
    expect(mounts.map((m) => m.service).sort()).toEqual(["authorization-server", "directory", "edge", "pki"]);
  });

  it("every long-running service has a health check; the one-shot pki has none", () => {
    for (const n of names.filter((x) => x !== "pki")) expect(services[n]!.healthcheck?.test?.[0], n).toBe("CMD");
    expect(services.pki!.healthcheck).toEqual({ disable: true });
    // The edge's is the image's: the admin listener's /healthz, with node (no curl in the image).
    expect(services.edge!.healthcheck!.test!.join(" ")).toContain("http://127.0.0.1:9090/healthz");
  });

  it("start order: the PKI first, the edge once everything it calls is healthy", () => {
    for (const n of ["directory", "authorization-server", "echo"]) expect(services[n]!.depends_on).toEqual({ pki: { condition: "service_completed_successfully" } });
    expect(services.edge!.depends_on).toEqual({
      redis: { condition: "service_healthy" },
      directory: { condition: "service_healthy" },
      "authorization-server": { condition: "service_healthy" },
      echo: { condition: "service_healthy" },
    });
  });

  it("the edge: its published ports reach its listener and admin listener, bound to 0.0.0.0; its addresses are the other services'", () => {
    const edge = services.edge!;
    expect(edge.command).toEqual(["serve", "--config", "examples/edge-redis.json"]);
    const config = parseConfig(JSON.parse(readFileSync(join(ROOT, "examples/edge-redis.json"), "utf8")), {
      file: "examples/edge-redis.json",
      baseDir: join(ROOT, "examples"),
      env: edge.environment!,
    });
    const published = edge.ports!.map((p) => p.split(":").map((x) => x));
    const listener = config.listeners.find(terminatesTls)!;
    expect(published).toContainEqual(["127.0.0.1", String(listener.port), String(listener.port)]);
    expect(listener.host).toBe("0.0.0.0");
    expect(published).toContainEqual(["127.0.0.1", String(config.admin!.port), String(config.admin!.port)]);
    expect(config.admin!.host).toBe("0.0.0.0");

    const port = (n: string) => option(services[n]!.command, "--port");
    expect(config.routes.map((r) => r.upstream)).toEqual([`http://echo:${port("echo")}`, `http://echo:${port("echo")}`]);
    expect(config.directory!.participantsUrl).toBe(`http://directory:${port("directory")}/participants`);
    expect(config.directory!.keystoreUrl).toBe(`http://directory:${port("directory")}/keystore/`);
    expect(config.authorizationServer!.issuer).toBe(option(services["authorization-server"]!.command, "--issuer"));
    expect(config.authorizationServer!.issuer).toBe(`http://authorization-server:${port("authorization-server")}`);
    expect(edge.environment!.REDIS_URL).toBe("redis://redis:6379");
    // The test PKI's CRL distribution points name the directory service, which serves them.
    expect(services.pki!.entrypoint!.join(" ")).toContain(`--crl-base-url http://directory:${port("directory")}/crl/`);
    // Each service the edge calls listens on every interface of its container.
    for (const n of ["directory", "authorization-server", "echo"]) expect(option(services[n]!.command, "--host"), n).toBe("0.0.0.0");
  });

  it("docker compose stop waits for the whole drain: stop_grace_period ≥ drainTimeoutMs + 5 s", () => {
    const config = parseConfig(JSON.parse(readFileSync(join(ROOT, "examples/edge-redis.json"), "utf8")), { file: "examples/edge-redis.json", baseDir: join(ROOT, "examples"), env: services.edge!.environment! });
    expect(seconds(services.edge!.stop_grace_period!) * 1000).toBeGreaterThanOrEqual(config.drainTimeoutMs + 5_000);
  });
});
