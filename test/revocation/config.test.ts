import { describe, expect, it } from "vitest";
import { revocationSchema } from "../../src/revocation/config.js";

describe("revocation configuration", () => {
  it("defaults to CRL checking, soft-fail with 6 h of grace, the memory store", () => {
    expect(revocationSchema.parse({})).toEqual({
      mode: "crl",
      onStale: "soft-fail",
      graceMs: 6 * 3_600_000,
      refreshBeforeMs: 15 * 60_000,
      minRefreshIntervalMs: 5 * 60_000,
      fetchTimeoutMs: 30_000,
      firstFetchWaitMs: 10_000,
      maxCrlBytes: 64 * 1024 * 1024,
      store: { type: "memory" },
      crlFiles: [],
      crlFilesCheckMs: 10_000,
      ocsp: { enabled: false, timeoutMs: 2_000, maxResponseBytes: 64 * 1024, cacheMaxEntries: 10_000, refreshBeforeMs: 5 * 60_000, maxAgeMs: 3_600_000, failureCacheMs: 60_000, nonce: false },
    });
  });

  it("OCSP: off by default; responders keyed by the AC's SHA-256 (normalised), http(s) only; unknown keys refused", () => {
    const fingerprint = "AB:".repeat(31) + "CD";
    const parsed = revocationSchema.parse({ ocsp: { enabled: true, responders: { [fingerprint]: "http://ocsp.test/ac" } } });
    expect(parsed.ocsp).toMatchObject({ enabled: true, timeoutMs: 2_000, responders: { [`${"ab".repeat(31)}cd`]: "http://ocsp.test/ac" } });
    expect(revocationSchema.safeParse({ ocsp: { enabled: true, responders: { ["ab".repeat(32)]: "ldap://ocsp.test" } } }).success).toBe(false);
    expect(revocationSchema.safeParse({ ocsp: { enabled: true, cache: 10 } }).success).toBe(false);
    expect(revocationSchema.safeParse({ ocsp: { timeoutMs: 0 } }).success).toBe(false);
  });

  it("keys distribution-point overrides by the AC's SHA-256, colons and case normalised", () => {
    const fingerprint = "AB:".repeat(31) + "CD";
    const parsed = revocationSchema.parse({ urls: { [fingerprint]: ["http://mirror.test/ac.crl"] } });
    expect(parsed.urls).toEqual({ [`${"ab".repeat(31)}cd`]: ["http://mirror.test/ac.crl"] });
  });

  it("rejects unknown keys, non-HTTP URLs and a bad store", () => {
    expect(revocationSchema.safeParse({ ocsp: true }).success).toBe(false);
    expect(revocationSchema.safeParse({ urls: { ["ab".repeat(32)]: ["ldap://x/ac.crl"] } }).success).toBe(false);
    expect(revocationSchema.safeParse({ urls: { ac: ["http://x/ac.crl"] } }).success).toBe(false);
    expect(revocationSchema.safeParse({ store: { type: "redis", url: "http://x" } }).success).toBe(false);
    expect(revocationSchema.parse({ store: { type: "redis" } }).store).toEqual({ type: "redis", keyPrefix: "ofb-edge:", connectTimeoutMs: 5_000 });
  });
});
