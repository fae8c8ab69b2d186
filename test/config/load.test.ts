import type { TlsListenerConfig } from "../../src/config/schema.js";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfigFile } from "../../src/config/load.js";
import { ConfigError } from "../../src/errors.js";

const dir = mkdtempSync(join(tmpdir(), "ofb-config-load-"));
let n = 0;

/** Writes a configuration file (object or raw text) into a fresh temporary path. */
function writeConfig(content: unknown): string {
  const file = join(dir, `config-${++n}.json`);
  writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content, null, 2));
  return file;
}

const valid = () => ({
  $schema: "../schema/config.schema.json",
  listeners: [{ name: "edge", port: 8443, mode: "permissive", tls: { cert: "tls/cert.pem", key: "tls/key.pem", trustAnchors: ["tls/anchors.pem"] } }],
  routes: [{ name: "open-banking", pathPrefix: "/open-banking/", upstream: "http://10.0.0.5:8080" }],
});

/** Loads `file` expecting a ConfigError; returns it. */
function configError(file: string, env: Record<string, string> = {}): ConfigError {
  try {
    loadConfigFile(file, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`${file} was accepted`);
}

describe("loadConfigFile (parse at the boundary: errors name the file and the JSON path)", () => {
  it("accepts a minimal file with a $schema key, applies defaults, resolves paths against the file's folder and freezes the result", () => {
    const config = loadConfigFile(writeConfig(valid()));
    expect((config.listeners[0] as TlsListenerConfig).tls.cert).toBe(join(dir, "tls/cert.pem"));
    expect((config.listeners[0] as TlsListenerConfig).tls.trustAnchors).toEqual([join(dir, "tls/anchors.pem")]);
    expect(config.listeners[0]!.host).toBe("0.0.0.0");
    expect(config.routes[0]).toMatchObject({ mtls: "required", interactionId: "require" });
    expect(config.proxy).toMatchObject({ xForwardedFor: "replace", maxRequestBodyBytes: 10 * 1024 * 1024 });
    expect(Object.isFrozen((config.listeners[0] as TlsListenerConfig).tls)).toBe(true);
  });

  it("names the file when it cannot be read", () => {
    const err = configError(join(dir, "missing.json"));
    expect(err.file).toBe(join(dir, "missing.json"));
    expect(err.issues[0]!.message).toMatch(/cannot read: ENOENT/);
  });

  it("reports a trailing comma with its line and column", () => {
    const file = writeConfig('{\n  "listeners": [],\n}\n');
    const err = configError(file);
    expect(err.message.startsWith(`${file}: `)).toBe(true);
    expect(err.issues[0]!.message).toMatch(/^invalid JSON at line 3, column 1: /);
  });

  it("reports an unquoted value with its line and column and never quotes the file's text (it may hold a passphrase)", () => {
    const file = writeConfig('{\n  "listeners": [{ "tls": { "keyPassphrase": hunter2-secret } }]\n}\n');
    const err = configError(file);
    expect(err.issues[0]!.message).toMatch(/^invalid JSON at line 2, column 45: Unexpected token/);
    expect(err.message).not.toContain("hunter2-secret");
    expect(err.message).not.toContain("keyPassphrase");
  });

  it("reports a truncated file at its end", () => {
    const err = configError(writeConfig('{\n  "listeners": ['));
    expect(err.issues[0]!.message).toMatch(/^invalid JSON at line 2, column 17: /);
  });

  it("rejects an unknown top-level key (a typo never falls back to a default)", () => {
    const err = configError(writeConfig({ ...valid(), proxi: { xForwardedFor: "append" } }));
    expect(err.issues).toEqual([{ path: "", message: expect.stringContaining('"proxi"') }]);
  });

  it("rejects an unknown nested key at its JSON path", () => {
    const cfg = valid();
    (cfg.listeners[0]!.tls as Record<string, unknown>).certt = "x.pem";
    const err = configError(writeConfig(cfg));
    expect(err.issues).toEqual([{ path: "listeners[0].tls", message: expect.stringContaining('"certt"') }]);
  });

  it("rejects a value of the wrong type at its JSON path", () => {
    const cfg = valid();
    (cfg.listeners[0] as Record<string, unknown>).port = "8443";
    const err = configError(writeConfig(cfg));
    expect(err.issues.map((i) => i.path)).toEqual(["listeners[0].port"]);
    expect(err.message).toContain("listeners[0].port");
  });

  it("rejects values outside their enum or range at their JSON paths", () => {
    const cfg = { ...valid(), proxy: { xForwardedFor: "trust", maxRequestBodyBytes: -1 } };
    (cfg.listeners[0] as Record<string, unknown>).mode = "passthrough-ish";
    const err = configError(writeConfig(cfg));
    expect(err.issues.map((i) => i.path).sort()).toEqual(["listeners[0].mode", "proxy.maxRequestBodyBytes", "proxy.xForwardedFor"]);
  });

  it("rejects an upstream that is not an http(s) URL", () => {
    const cfg = valid();
    cfg.routes[0]!.upstream = "ftp://10.0.0.5/";
    expect(configError(writeConfig(cfg)).issues.map((i) => i.path)).toEqual(["routes[0].upstream"]);
  });

  it("rejects a duplicate listener name", () => {
    const cfg = valid();
    cfg.listeners.push({ ...cfg.listeners[0]!, port: 9443 });
    expect(configError(writeConfig(cfg)).issues).toEqual([{ path: "listeners[1]", message: "duplicate listener 'edge'" }]);
  });

  it("rejects a duplicate route name", () => {
    const cfg = valid();
    cfg.routes.push({ ...cfg.routes[0]!, pathPrefix: "/other/" });
    expect(configError(writeConfig(cfg)).issues).toEqual([{ path: "routes[1]", message: "duplicate route 'open-banking'" }]);
  });

  it("rejects a listener that names a route that does not exist", () => {
    const cfg = valid();
    (cfg.listeners[0] as Record<string, unknown>).routes = ["open-banking", "payments"];
    expect(configError(writeConfig(cfg)).issues).toEqual([{ path: "listeners[0].routes[1]", message: "no route named 'payments'" }]);
  });

  it("rejects two listeners on the same address and port", () => {
    const cfg = valid();
    cfg.listeners.push({ ...cfg.listeners[0]!, name: "second" });
    expect(configError(writeConfig(cfg)).issues.map((i) => i.path)).toEqual(["listeners[1].port"]);
  });

  it("reports every problem of a file at once, not only the first", () => {
    const cfg = valid();
    (cfg.listeners[0] as Record<string, unknown>).port = -1;
    cfg.routes[0]!.pathPrefix = "open-banking";
    expect(configError(writeConfig(cfg)).issues.map((i) => i.path).sort()).toEqual(["listeners[0].port", "routes[0].pathPrefix"]);
  });
});
