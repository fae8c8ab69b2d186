import { describe, expect, it } from "vitest";
import type { TlsListenerConfig } from "../../src/config/schema.js";
import { issues, parse } from "../helpers/config.js";

/** The settings that bound what clients, backends and shutdown can hold: defaults, and refusals that name the key. */

const tls = { cert: "cert.pem", key: "key.pem", trustAnchors: ["anchors.pem"] };
const config = (extra: { http?: Record<string, unknown>; proxy?: Record<string, unknown>; drainTimeoutMs?: unknown } = {}) => ({
  listeners: [{ name: "edge", port: 8443, mode: "permissive", tls, ...(extra.http && { http: extra.http }) }],
  routes: [{ name: "open-banking", pathPrefix: "/open-banking/", upstream: "http://10.0.0.5:8080" }],
  ...(extra.proxy && { proxy: extra.proxy }),
  ...(extra.drainTimeoutMs !== undefined && { drainTimeoutMs: extra.drainTimeoutMs }),
});

describe("connection limits in the configuration", () => {
  it("defaults: 10 s handshake time-out, 64 unfinished handshakes per source, a 16 KiB header budget towards the backend, 25 s to shut down", () => {
    const c = parse(config());
    const http = (c.listeners[0] as TlsListenerConfig).http;
    expect([http.handshakeTimeoutMs, http.maxHandshakesPerSource, c.proxy.maxUpstreamHeaderBytes, c.drainTimeoutMs]).toEqual([10_000, 64, 16_384, 25_000]);
  });

  it.each([
    [{ http: { handshakeTimeoutMs: 50 } }, "listeners[0].http.handshakeTimeoutMs"],
    [{ http: { handshakeTimeoutMs: 300_000 } }, "listeners[0].http.handshakeTimeoutMs"],
    [{ http: { maxHandshakesPerSource: 0 } }, "listeners[0].http.maxHandshakesPerSource"],
    [{ http: { headersTimeoutMs: 70_000 } }, "listeners[0].http.headersTimeoutMs"],
    [{ proxy: { maxUpstreamHeaderBytes: 100 } }, "proxy.maxUpstreamHeaderBytes"],
    [{ drainTimeoutMs: -1 }, "drainTimeoutMs"],
    [{ drainTimeoutMs: "30s" }, "drainTimeoutMs"],
  ])("%j is refused, naming %s", (extra, path) => {
    expect(issues(config(extra)).map((i) => i.path)).toContain(path);
  });

  it("a header time-out longer than the request time-out says which bound it breaks", () => {
    expect(issues(config({ http: { headersTimeoutMs: 20_000, requestTimeoutMs: 15_000 } }))).toContainEqual({ path: "listeners[0].http.headersTimeoutMs", message: "must not exceed requestTimeoutMs (15000)" });
  });
});
