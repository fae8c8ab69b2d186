import type { TlsListenerConfig } from "../../src/config/schema.js";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { ConfigError } from "../../src/errors.js";

const FILE = "/etc/ofb-edge/config.json";

const raw = () => ({
  listeners: [
    { name: "mtls-edge", host: "127.0.0.1", port: 8443, mode: "permissive", tls: { cert: "/tls/cert.pem", key: "/tls/key.pem", trustAnchors: ["/tls/anchors.pem"] } },
    { name: "admin", port: 9443, mode: "strict", tls: { cert: "/tls/cert.pem", key: "/tls/key.pem", trustAnchors: ["/tls/anchors.pem"] } },
  ],
  routes: [
    { name: "open-banking", pathPrefix: "/open-banking/", upstream: "http://10.0.0.5:8080" },
    { name: "well-known", pathPrefix: "/.well-known/", upstream: "http://10.0.0.6:8080", mtls: "optional" },
  ],
});

const load = (env: Record<string, string>, input: unknown = raw()) => parseConfig(input, { file: FILE, baseDir: "/", env });

function envError(env: Record<string, string>): ConfigError {
  try {
    load(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error("the environment was accepted");
}

describe("environment overrides (src/config/env.ts: deployment addresses and secrets)", () => {
  it("overrides a listener's port and host by its upper-cased name ('-' → '_')", () => {
    const config = load({ OFB_EDGE_LISTENER_MTLS_EDGE_PORT: "10443", OFB_EDGE_LISTENER_MTLS_EDGE_HOST: "0.0.0.0" });
    expect(config.listeners[0]).toMatchObject({ name: "mtls-edge", host: "0.0.0.0", port: 10443 });
    expect(config.listeners[1]).toMatchObject({ name: "admin", host: "0.0.0.0", port: 9443 });
  });

  it("sets a listener's key passphrase from the environment (secrets stay out of the file)", () => {
    const config = load({ OFB_EDGE_LISTENER_ADMIN_KEY_PASSPHRASE: "s3cret" });
    expect((config.listeners[1] as TlsListenerConfig).tls.keyPassphrase).toBe("s3cret");
    expect((config.listeners[0] as TlsListenerConfig).tls.keyPassphrase).toBeUndefined();
  });

  it("overrides a route's upstream", () => {
    const config = load({ OFB_EDGE_ROUTE_WELL_KNOWN_UPSTREAM: "https://backend.internal:8443/base" });
    expect(config.routes[1]!.upstream).toBe("https://backend.internal:8443/base");
    expect(config.routes[0]!.upstream).toBe("http://10.0.0.5:8080");
  });

  it("sets the worker count and log level", () => {
    expect(load({ OFB_EDGE_WORKERS: "4", OFB_EDGE_LOG_LEVEL: "debug" })).toMatchObject({ workers: 4, log: { level: "debug" } });
    expect(load({ OFB_EDGE_WORKERS: "auto" }).workers).toBe("auto");
  });

  it("leaves the input untouched (overrides apply to a copy)", () => {
    const input = raw();
    load({ OFB_EDGE_LISTENER_MTLS_EDGE_PORT: "10443" }, input);
    expect(input.listeners[0]!.port).toBe(8443);
  });

  it("ignores unrelated variables", () => {
    expect(load({ PATH: "/usr/bin", OFB_EDGE_STATE_DIR: "/var/lib/ofb-edge", REDIS_URL: "redis://x" }).listeners[0]!.port).toBe(8443);
  });

  it("rejects an override for a listener that does not exist, naming the variable", () => {
    const err = envError({ OFB_EDGE_LISTENER_PUBLIC_PORT: "443" });
    expect(err.file).toBe(`${FILE} (environment)`);
    expect(err.issues).toEqual([{ path: "OFB_EDGE_LISTENER_PUBLIC_PORT", message: "no listener named 'public'" }]);
  });

  it("rejects an override for a route that does not exist", () => {
    expect(envError({ OFB_EDGE_ROUTE_PAYMENTS_UPSTREAM: "http://x:1" }).issues).toEqual([
      { path: "OFB_EDGE_ROUTE_PAYMENTS_UPSTREAM", message: "no route named 'payments'" },
    ]);
  });

  it("rejects a misspelt listener or route variable instead of silently keeping the file's value", () => {
    const err = envError({ OFB_EDGE_LISTENER_ADMIN_PROT: "1", OFB_EDGE_ROUTE_OPEN_BANKING_UPSTREAMS: "http://x:1" });
    expect(err.issues.map((i) => i.path).sort()).toEqual(["OFB_EDGE_LISTENER_ADMIN_PROT", "OFB_EDGE_ROUTE_OPEN_BANKING_UPSTREAMS"]);
  });

  it("rejects a port or worker count that is not an integer, naming the variable but not echoing a secret", () => {
    const err = envError({ OFB_EDGE_LISTENER_ADMIN_PORT: "94x3", OFB_EDGE_WORKERS: "many", OFB_EDGE_LISTENER_NOPE_KEY_PASSPHRASE: "do-not-echo" });
    expect(err.issues.map((i) => i.path).sort()).toEqual(["OFB_EDGE_LISTENER_ADMIN_PORT", "OFB_EDGE_LISTENER_NOPE_KEY_PASSPHRASE", "OFB_EDGE_WORKERS"]);
    expect(err.message).not.toContain("do-not-echo");
  });

  it("validates overridden values with the file's rules, at the overridden key's JSON path", () => {
    const err = envError({ OFB_EDGE_LISTENER_ADMIN_PORT: "70000", OFB_EDGE_ROUTE_OPEN_BANKING_UPSTREAM: "ftp://x/", OFB_EDGE_WORKERS: "0" });
    expect(err.file).toBe(FILE);
    expect(err.issues.map((i) => i.path).sort()).toEqual(["listeners[1].port", "routes[0].upstream", "workers"]);
  });

  it("OFB_EDGE_AUTHORIZATION_SERVER_ISSUER replaces the issuer (a container reaches the authorization server by its service name)", () => {
    const input = { ...raw(), authorizationServer: { issuer: "http://127.0.0.1:8400" } };
    expect(load({ OFB_EDGE_AUTHORIZATION_SERVER_ISSUER: "http://authorization-server:8400" }, input).authorizationServer?.issuer).toBe("http://authorization-server:8400");
  });

  it("rejects OFB_EDGE_AUTHORIZATION_SERVER_ISSUER without an authorizationServer section, and an issuer that is not a URL", () => {
    expect(envError({ OFB_EDGE_AUTHORIZATION_SERVER_ISSUER: "http://as:8400" }).issues).toEqual([
      { path: "OFB_EDGE_AUTHORIZATION_SERVER_ISSUER", message: "set, but the configuration has no authorizationServer section" },
    ]);
    try {
      load({ OFB_EDGE_AUTHORIZATION_SERVER_ISSUER: "not a url" }, { ...raw(), authorizationServer: { issuer: "http://127.0.0.1:8400" } });
      throw new Error("accepted");
    } catch (err) {
      expect((err as ConfigError).issues.map((i) => i.path)).toEqual(["authorizationServer.issuer"]);
    }
  });
});
