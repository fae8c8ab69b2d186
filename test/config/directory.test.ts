import { describe, expect, it } from "vitest";
import { issues, parse } from "../helpers/config.js";
import { DEFAULT_ROLE_BY_FAMILY, DIRECTORY_PRESETS } from "../../src/config/schema.js";

/** The `directory` section (docs/architecture.md §Directory): presets, defaults, environment overrides and the errors that name the key. */

const base = (directory?: Record<string, unknown>, route: Record<string, unknown> = {}) => ({
  listeners: [{ name: "edge", port: 8443, mode: "strict", tls: { cert: "c.pem", key: "k.pem", trustAnchors: ["a.pem"] } }],
  routes: [{ name: "open-banking", pathPrefix: "/open-banking/", upstream: "http://10.0.0.5:8080", ...route }],
  ...(directory ? { directory } : {}),
});


describe("directory configuration", () => {
  it("a preset fills the OFB Directory's own URLs (participants and keystore); defaults follow decisions D5 and D6 of docs/architecture.md", () => {
    const d = parse(base({ preset: "sandbox" })).directory!;
    expect(d.participantsUrl).toBe(DIRECTORY_PRESETS.sandbox.participantsUrl);
    expect(d.keystoreUrl).toBe(DIRECTORY_PRESETS.sandbox.keystoreUrl);
    expect(d).toMatchObject({ store: { type: "memory" }, refreshIntervalMs: 300_000, maxStalenessMs: 86_400_000, requireRegisteredCertificate: true, defaultRole: "DADOS" });
    expect(d.roleByFamily).toEqual(DEFAULT_ROLE_BY_FAMILY);
    expect(parse(base({ preset: "production" })).directory!.participantsUrl).toBe("https://data.directory.openbankingbrasil.org.br/participants");
  });

  it("explicit URLs win over the preset, and the keystore URL always ends with '/'", () => {
    const d = parse(base({ preset: "production", participantsUrl: "http://mock:8480/participants", keystoreUrl: "http://mock:8480/keystore" })).directory!;
    expect(d.participantsUrl).toBe("http://mock:8480/participants");
    expect(d.keystoreUrl).toBe("http://mock:8480/keystore/");
  });

  it("without a preset the URLs are required, each error naming its key", () => {
    expect(issues(base({}))).toEqual(
      expect.arrayContaining([
        { path: "directory.participantsUrl", message: expect.stringContaining("required") },
        { path: "directory.keystoreUrl", message: expect.stringContaining("requireRegisteredCertificate") },
      ]),
    );
    // Without the transport-key check no keystore is needed.
    expect(parse(base({ participantsUrl: "http://x/participants", requireRegisteredCertificate: false })).directory!.keystoreUrl).toBe("");
  });

  it("rejects unknown keys, bad roles and a non-Redis URL at their paths", () => {
    expect(issues(base({ preset: "sandbox", refreshIntervalMinutes: 5 }))[0]!.path).toBe("directory");
    expect(issues(base({ preset: "sandbox", roleByFamily: { accounts: "dados" } }))[0]!.path).toBe("directory.roleByFamily.accounts");
    expect(issues(base({ preset: "sandbox", store: { type: "redis", url: "http://redis:6379" } }))[0]!.path).toBe("directory.store.url");
    expect(issues(base({ preset: "sandbox", store: { type: "etcd" } }))[0]!.path).toBe("directory.store.type");
  });

  it("a route asking for participant checks needs a `directory` section", () => {
    expect(issues(base(undefined, { participant: "check" }))).toEqual([{ path: "routes[0].participant", message: "'check' needs a `directory` section" }]);
  });

  it("REDIS_URL and the directory URL variables override the file (deployment addresses)", () => {
    const d = parse(base({ preset: "production", store: { type: "redis" } }), {
      REDIS_URL: "redis://:pw@redis.internal:6379/2",
      OFB_EDGE_DIRECTORY_PARTICIPANTS_URL: "http://mock:8480/participants",
      OFB_EDGE_DIRECTORY_KEYSTORE_URL: "http://mock:8480/keystore/",
    }).directory!;
    expect(d.store).toEqual({ type: "redis", url: "redis://:pw@redis.internal:6379/2", keyPrefix: "ofb-edge:", connectTimeoutMs: 5_000 });
    expect([d.participantsUrl, d.keystoreUrl]).toEqual(["http://mock:8480/participants", "http://mock:8480/keystore/"]);
    expect(parse(base({ preset: "production" }), { REDIS_URL: "redis://ignored:6379" }).directory!.store).toEqual({ type: "memory" });
  });
});
