import { describe, expect, it } from "vitest";
import { fingerprintOf, localConfigurationDocument } from "../../src/conformance/fingerprint.js";
import { parse } from "../helpers/config.js";

// The report's configuration fingerprint of a local stack: the same configuration gives the same fingerprint from one
// run to the next (free ports, a fresh folder, test PKI and Redis key prefix each time); any configuration change
// gives another; secrets never enter it.

const CA = { root: "a".repeat(64), sslAc: "b".repeat(64) };

/** A local stack's edge configuration as `startLocalStack` builds it, for one run's ports, folder and key prefix. */
function stackConfig(run: { port: number; dir: string; prefix: string; secret: string; ca: typeof CA }, change: (input: Record<string, unknown>) => Record<string, unknown> = (i) => i) {
  const url = (path: string) => `http://127.0.0.1:${run.port + 1}${path}`;
  const input = {
    listeners: [{ name: "edge", host: "127.0.0.1", port: run.port, mode: "permissive", tls: { cert: `${run.dir}/pki/server/cert.pem`, key: `${run.dir}/pki/server/key.pem`, trustAnchors: [`${run.dir}/pki/ca/trust-anchors.pem`] } }],
    policy: { transportRoots: [`${run.dir}/pki/ca/root.pem`] },
    routes: [{ name: "open-banking", pathPrefix: "/open-banking/", upstream: url(""), mtls: "required", interactionId: "require" }],
    directory: { participantsUrl: url("/participants"), keystoreUrl: url("/keystore/"), store: { type: "redis", url: `redis://:hunter2@127.0.0.1:${run.port + 2}`, keyPrefix: run.prefix } },
    authorizationServer: { issuer: url(""), introspection: { auth: { method: "client_secret_basic", clientId: "ofb-edge-conformance", clientSecret: run.secret } } },
    revocation: { mode: "crl", urls: { [run.ca.root]: [url("/root.crl")], [run.ca.sslAc]: [url("/ssl-ac.crl")] } },
    admin: { host: "127.0.0.1", port: run.port + 3 },
    log: { level: "silent" },
    workers: 1,
  };
  return parse(change(input));
}

function fingerprint(run: Parameters<typeof stackConfig>[0], change?: Parameters<typeof stackConfig>[1]) {
  const names = new Map([
    [`${run.dir}/pki`, "<test-pki>"],
    [run.dir, "<run>"],
    [run.prefix, "<run-key-prefix>"],
    [run.ca.root, "<test-pki root>"],
    [run.ca.sslAc, "<test-pki sslAc>"],
  ]);
  return fingerprintOf("the local stack", localConfigurationDocument(stackConfig(run, change), names));
}

const RUN_1 = { port: 40_001, dir: "/tmp/ofb-edge-conformance-AAAA", prefix: "conformance:1111:", secret: "s3cret-one", ca: CA };
const RUN_2 = { port: 51_234, dir: "/tmp/ofb-edge-conformance-BBBB", prefix: "conformance:2222:", secret: "s3cret-two", ca: { root: "c".repeat(64), sslAc: "d".repeat(64) } };

describe("the local stack's configuration fingerprint", () => {
  it("is the same for two runs that differ only in ports, folders, key prefix, test-PKI fingerprints and secrets", () => {
    const [one, two] = [fingerprint(RUN_1), fingerprint(RUN_2)];
    expect(one.sha256).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(two.sha256).toBe(one.sha256);
    expect(two.fingerprinted).toEqual(one.fingerprinted);
  });

  it("changes when the configuration does", () => {
    const base = fingerprint(RUN_1).sha256;
    const routes = (change: Record<string, unknown>) => (input: Record<string, unknown>) => ({ ...input, routes: (input.routes as Record<string, unknown>[]).map((r) => ({ ...r, ...change })) });
    const changed = [
      fingerprint(RUN_1, routes({ binding: "off" })),
      fingerprint(RUN_1, routes({ participant: "off" })),
      fingerprint(RUN_1, (input) => ({ ...input, revocation: { mode: "off" } })),
      fingerprint(RUN_1, (input) => ({ ...input, policy: { ...(input.policy as object), cnpj: "refuse" } })),
      fingerprint(RUN_1, (input) => ({ ...input, listeners: (input.listeners as Record<string, unknown>[]).map((l) => ({ ...l, mode: "strict" })) })),
      fingerprint(RUN_1, (input) => ({ ...input, listeners: (input.listeners as Record<string, unknown>[]).map((l) => ({ ...l, host: "0.0.0.0" })) })),
    ].map((f) => f.sha256);
    for (const sha of changed) expect(sha).not.toBe(base);
    expect(new Set(changed).size).toBe(changed.length);
  });

  it("holds no secret, credential, private-key path or port, and names the run's own values by label", () => {
    const f = fingerprint(RUN_1);
    const text = JSON.stringify(f.fingerprinted);
    for (const secret of ["s3cret-one", "hunter2", "key.pem", "40001", "40002", "40003", "/tmp/ofb-edge-conformance-AAAA", "conformance:1111:", "a".repeat(64)]) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/"(port|key|clientSecret|password)":/);
    expect(f.fingerprinted).toMatchObject({
      directory: { participantsUrl: "http://127.0.0.1/participants", store: { url: "redis://127.0.0.1", keyPrefix: "<run-key-prefix>" } },
      policy: { transportRoots: ["<test-pki>/ca/root.pem"] },
      revocation: { urls: { "<test-pki root>": ["http://127.0.0.1/root.crl"] } },
      authorizationServer: { introspection: { auth: { method: "client_secret_basic", clientId: "ofb-edge-conformance" } } },
    });
  });

  it("is taken of canonical JSON: the order of members does not matter", () => {
    expect(fingerprintOf("x", { b: 1, a: { d: [2, { f: 1, e: 0 }], c: null } }).sha256).toBe(fingerprintOf("x", { a: { c: null, d: [2, { e: 0, f: 1 }] }, b: 1 }).sha256);
    expect(fingerprintOf("x", { a: [1, 2] }).sha256).not.toBe(fingerprintOf("x", { a: [2, 1] }).sha256);
  });
});
