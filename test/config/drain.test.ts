import { describe, expect, it } from "vitest";
import { issues, parse } from "../helpers/config.js";

/** The two shutdown settings: the delay before the drain is spent inside the drain time-out. */

const config = (extra: Record<string, unknown> = {}) => ({
  listeners: [{ name: "edge", port: 8443, mode: "permissive", tls: { cert: "cert.pem", key: "key.pem", trustAnchors: ["anchors.pem"] } }],
  routes: [{ name: "open-banking", pathPrefix: "/open-banking/", upstream: "http://10.0.0.5:8080" }],
  ...extra,
});

describe("drainDelayMs and drainTimeoutMs", () => {
  it("default: 5 s of serving while not ready, inside a 25 s shutdown", () => {
    const c = parse(config());
    expect([c.drainDelayMs, c.drainTimeoutMs]).toEqual([5_000, 25_000]);
  });

  it.each([
    [{ drainDelayMs: 25_000 }, "must be less than drainTimeoutMs (25000): the delay is part of the drain time-out"],
    [{ drainDelayMs: 4_000, drainTimeoutMs: 3_000 }, "must be less than drainTimeoutMs (3000): the delay is part of the drain time-out"],
    // The default delay does not fit a short time-out either: the file must say how to split it.
    [{ drainTimeoutMs: 5_000 }, "must be less than drainTimeoutMs (5000): the delay is part of the drain time-out"],
  ])("%j is refused at load, naming drainDelayMs", (extra, message) => {
    expect(issues(config(extra))).toContainEqual({ path: "drainDelayMs", message });
  });

  it.each([[{ drainDelayMs: -1 }], [{ drainDelayMs: "5s" }], [{ drainDelayMs: 1.5 }]])("%j is refused, naming drainDelayMs", (extra) => {
    expect(issues(config(extra)).map((i) => i.path)).toContain("drainDelayMs");
  });

  it("no delay at all, and a delay just under the time-out, are accepted", () => {
    expect(parse(config({ drainDelayMs: 0, drainTimeoutMs: 0 })).drainDelayMs).toBe(0);
    expect(parse(config({ drainDelayMs: 24_999 })).drainDelayMs).toBe(24_999);
  });
});
