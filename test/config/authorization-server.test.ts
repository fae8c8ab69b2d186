import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { issues, parse } from "../helpers/config.js";
import { createTokenVerifier } from "../../src/binding/verifier.js";
import { ConfigError } from "../../src/errors.js";

/** The `authorizationServer` section and the per-route `binding`/`scopes` (docs/architecture.md §Token binding): defaults, and errors that name the key. */

const base = (as?: Record<string, unknown>, route: Record<string, unknown> = {}) => ({
  listeners: [{ name: "edge", port: 8443, mode: "strict", tls: { cert: "c.pem", key: "k.pem", trustAnchors: ["a.pem"] } }],
  routes: [{ name: "open-banking", pathPrefix: "/open-banking/", upstream: "http://10.0.0.5:8080", ...route }],
  ...(as ? { authorizationServer: as } : {}),
});


describe("authorizationServer configuration", () => {
  it("defaults are policy: PS256 only, 5 s skew, tokens remembered at most 900 s, failures 10 s", () => {
    const as = parse(base({ issuer: "https://auth.bank.example" })).authorizationServer!;
    expect(as).toMatchObject({
      algorithms: ["PS256"],
      clockSkewSeconds: 5,
      format: "auto",
      maxTokenLength: 4096,
      cache: { maxTtlMs: 900_000, negativeTtlMs: 10_000, maxEntries: 100_000 },
      jwks: { cooldownMs: 30_000, cacheMaxAgeMs: 600_000 },
    });
  });

  it("symmetric algorithms and none are not accepted", () => {
    expect(issues(base({ issuer: "https://auth.bank.example", algorithms: ["HS256"] }))[0]!.path).toBe("authorizationServer.algorithms[0]");
    expect(issues(base({ issuer: "https://auth.bank.example", algorithms: ["none"] }))[0]!.path).toBe("authorizationServer.algorithms[0]");
    expect(issues(base({ issuer: "https://auth.bank.example", algorithms: [] }))[0]!.path).toBe("authorizationServer.algorithms");
  });

  it("binding enforce or report without an authorizationServer is an error naming the route", () => {
    expect(issues(base(undefined, { binding: "enforce" }))).toEqual([{ path: "routes[0].binding", message: expect.stringContaining("authorizationServer") }]);
    expect(parse(base(undefined, { binding: "off" })).routes[0]!.binding).toBe("off");
  });

  it("scopes need a route that checks tokens", () => {
    expect(issues(base({ issuer: "https://auth.bank.example" }, { binding: "off", scopes: ["payments"] }))).toEqual([{ path: "routes[0].scopes", message: expect.stringContaining("binding") }]);
    expect(issues(base({ issuer: "https://auth.bank.example" }, { scopes: ["bad scope"] }))[0]!.path).toBe("routes[0].scopes[0]");
    expect(parse(base({ issuer: "https://auth.bank.example" }, { scopes: ["payments"] })).routes[0]!.scopes).toEqual(["payments"]);
  });

  it("format introspection needs an introspection section", () => {
    expect(issues(base({ issuer: "https://auth.bank.example", format: "introspection" }))).toEqual([{ path: "authorizationServer.introspection", message: expect.stringContaining("required") }]);
  });

  it("a client secret comes from the file or OFB_EDGE_INTROSPECTION_CLIENT_SECRET; missing, it is an error", () => {
    const as = (auth: Record<string, unknown>) => base({ issuer: "https://auth.bank.example", introspection: { auth } });
    expect(issues(as({ method: "client_secret_basic", clientId: "edge" }))).toEqual([
      { path: "authorizationServer.introspection.auth.clientSecret", message: expect.stringContaining("OFB_EDGE_INTROSPECTION_CLIENT_SECRET") },
    ]);
    const fromEnv = parse(as({ method: "client_secret_post", clientId: "edge" }), { OFB_EDGE_INTROSPECTION_CLIENT_SECRET: "from-env" });
    expect(fromEnv.authorizationServer!.introspection!.auth).toMatchObject({ clientSecret: "from-env" });
    expect(issues(as({ method: "tls_client_auth", clientId: "edge", cert: "c.pem", key: "k.pem" }), { OFB_EDGE_INTROSPECTION_CLIENT_SECRET: "x" })[0]!.path).toBe(
      "OFB_EDGE_INTROSPECTION_CLIENT_SECRET",
    );
  });

  it("relative key and CA paths resolve against the configuration file's folder", () => {
    const cfg = parse(base({ issuer: "https://auth.bank.example", caFile: "as-ca.pem", introspection: { auth: { method: "tls_client_auth", clientId: "edge", cert: "edge.pem", key: "edge.key" } } }));
    expect(cfg.authorizationServer!.caFile).toBe("/etc/ofb-edge/as-ca.pem");
    expect(cfg.authorizationServer!.introspection!.auth).toMatchObject({ cert: "/etc/ofb-edge/edge.pem", key: "/etc/ofb-edge/edge.key" });
  });

  it("unreadable or unusable key files stop start-up naming the key", () => {
    const dir = mkdtempSync(join(tmpdir(), "ofb-edge-as-"));
    const notAKey = join(dir, "not-a-key.pem");
    writeFileSync(notAKey, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    const pkjwt = (key: string) =>
      parse(base({ issuer: "https://auth.bank.example", introspection: { auth: { method: "private_key_jwt", clientId: "edge", key } } })).authorizationServer!;
    const attempt = (key: string) => {
      try {
        createTokenVerifier(pkjwt(key), { now: Date.now, configFile: "edge.json" });
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as ConfigError).issues[0]!;
      }
      throw new Error("accepted");
    };
    expect(attempt(join(dir, "missing.pem"))).toEqual({ path: "authorizationServer.introspection.auth.key", message: expect.stringContaining("ENOENT") });
    expect(attempt(notAKey)).toEqual({ path: "authorizationServer.introspection.auth.key", message: expect.stringContaining("not a usable private key") });
    const badCa = parse(base({ issuer: "https://auth.bank.example", caFile: join(dir, "missing-ca.pem") })).authorizationServer!;
    expect(() => createTokenVerifier(badCa, { now: Date.now, configFile: "edge.json" })).toThrow(/authorizationServer\.caFile: cannot read/);
  });
});
