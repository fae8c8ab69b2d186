import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { createServer, type Server } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Environment } from "../../src/conformance/environment.js";
import { startLocalStack, type LocalStack } from "../../src/conformance/local.js";
import { loadScenarios, runScenarios, type SuiteResult } from "../../src/conformance/runner.js";
import type { Area, Scenario } from "../../src/conformance/scenario.js";
import { listen } from "../../src/http/listen.js";
import { inject } from "vitest";
import { redisUrl } from "../helpers/redis.js";

// Issue 7, quality bar: a scenario must be able to fail. For each area, a deliberately mis-configured edge
// makes that area's scenarios fail: a "naive" TLS-terminating proxy (TLS 1.0 and every cipher allowed, session
// resumption on, no certificate policy, no Directory, no token checks, client headers forwarded as sent, no
// interaction-id handling) in front of the same recorder, and the real edge with binding or the Directory check
// switched off.

/** Scenarios that must fail against the naive proxy, per area. */
const NAIVE_FAILS: Readonly<Record<Area, readonly string[]>> = {
  tls: [
    "tls10-refused",
    "tls11-refused",
    "tls12-cbc-suites-refused",
    "tls12-static-rsa-suites-refused",
    "tls12-chacha20-refused",
    "insecure-cipher-probe-refused",
    "session-resumption-tls12-not-honoured",
    "session-resumption-tls13-not-honoured",
    "renegotiation-refused",
  ],
  certificate: [
    "no-certificate-rejected",
    "self-signed-certificate-rejected",
    "other-ca-certificate-rejected",
    "signing-hierarchy-certificate-rejected",
    "expired-certificate-rejected",
    "expired-intermediate-rejected",
    "missing-intermediate-rejected",
    "server-auth-only-eku-rejected",
    "rsa-1024-key-rejected",
    "sha1-signature-rejected",
    "pathlen-violation-rejected",
    "revoked-certificate-rejected",
    "denied-certificate-rejected",
    "no-uid-rejected",
    "standard-2023-subject-accepted",
  ],
  directory: ["unknown-organisation-rejected", "pending-organisation-rejected", "withdrawn-organisation-rejected", "role-inactive-for-route-rejected", "certificate-not-registered-rejected"],
  token: [
    "other-participant-token-refused",
    "token-without-cnf-refused",
    "padded-thumbprint-refused",
    "alg-none-refused",
    "expired-token-refused",
    "introspection-inactive-refused",
    "no-authorization-challenge-without-error",
    "token-in-query-refused",
  ],
  headers: ["interaction-id-missing-rejected", "interaction-id-echoed-verbatim", "date-header-within-five-minutes", "json-content-type-utf8-on-errors"],
  hygiene: [
    "spoofed-certificate-headers-stripped-on-mtls",
    "spoofed-certificate-headers-stripped-without-mtls",
    "spoofed-identity-headers-stripped",
    "client-cert-header-format",
    "no-certificate-headers-in-responses",
    "interleaved-clients-isolated",
  ],
  errors: ["ofb-error-shape-and-limits", "rfc6750-challenge-syntax"],
  messages: [
    "idempotency-replay-byte-identical",
    "idempotency-conflict-422",
    "idempotency-key-missing-rejected",
    "limits-participant-429-retry-after",
    "limits-global-529-retry-after",
    "message-bad-signature-refused",
    "message-alg-none-refused",
    "message-wrong-audience-refused",
    "message-wrong-issuer-refused",
    "message-stale-iat-refused",
    "message-jti-replay-refused",
    "response-signed-for-caller",
  ],
};

const BINDING_OFF_FAILS = ["other-participant-token-refused", "insufficient-scope-refused", "token-without-cnf-refused", "jkt-confirmation-refused", "expired-token-refused", "bad-signature-refused", "introspection-inactive-refused", "no-authorization-challenge-without-error", "token-in-query-refused"];
const DIRECTORY_OFF_FAILS = ["unknown-organisation-rejected", "pending-organisation-rejected", "withdrawn-organisation-rejected", "role-missing-rejected", "role-inactive-for-route-rejected", "certificate-only-in-inactive-keystore-rejected"];

let scenarios: Scenario[];
let stack: LocalStack;

beforeAll(async () => {
  scenarios = await loadScenarios();
  stack = await startLocalStack({ pkiDir: inject("pkiDir"), redis: { url: redisUrl() } });
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

async function run(env: Environment, areas: readonly Area[]): Promise<SuiteResult> {
  return runScenarios(env, scenarios.filter((s) => areas.includes(s.area)));
}

function statusOf(result: SuiteResult, id: string): string {
  const r = result.results.find((x) => x.id === id);
  if (!r) throw new Error(`no scenario '${id}'`);
  return r.status;
}

describe("the same scenarios against the edge as configured", () => {
  it("all pass (so a failure below is the mis-configuration's, not the scenario's)", async () => {
    const ids = new Set([...Object.values(NAIVE_FAILS).flat(), ...BINDING_OFF_FAILS, ...DIRECTORY_OFF_FAILS]);
    const result = await runScenarios(stack.environment, scenarios.filter((s) => ids.has(s.id)));
    expect(result.results.filter((r) => r.status !== "pass").map((r) => `${r.id}: ${r.message}`)).toEqual([]);
    expect(result.counts.pass).toBe(ids.size);
  });
});

describe("against a naive TLS-terminating proxy, every area's scenarios fail", () => {
  let naive: { port: number; server: Server };
  let result: SuiteResult;

  beforeAll(async () => {
    naive = await startNaiveProxy(stack);
    result = await run({ ...stack.environment, target: { ...stack.environment.target, port: naive.port } }, Object.keys(NAIVE_FAILS) as Area[]);
  }, 120_000);

  afterAll(async () => {
    naive.server.closeAllConnections();
    await new Promise((r) => naive.server.close(r));
  });

  for (const [area, ids] of Object.entries(NAIVE_FAILS)) {
    it(`${area}: ${ids.join(", ")} fail`, () => {
      for (const id of ids) expect(`${id}: ${statusOf(result, id)}`).toBe(`${id}: fail`);
    });
  }
});

/** The real edge with one stage switched off on its `/open-banking/` routes (or those `which` picks). */
function misconfigured(change: Record<string, unknown>, areas: readonly Area[], mustFail: readonly string[], which: (r: { pathPrefix: string; messageSigning?: string | undefined }) => boolean = (r) => r.pathPrefix.startsWith("/open-banking/")) {
  let other: LocalStack;
  let result: SuiteResult;
  beforeAll(async () => {
    other = await startLocalStack({
      pkiDir: inject("pkiDir"),
      redis: { url: redisUrl() },
      // Scopes need binding: a route with binding off drops them (the configuration refuses the pair).
      configure: (input) => ({
        ...input,
        routes: input.routes.map((r) => (which(r) ? { ...r, ...change, ...(change.binding === "off" ? { scopes: undefined } : {}) } : r)),
      }),
    });
    result = await run(other.environment, areas);
  }, 120_000);
  afterAll(async () => {
    await other?.close();
  });
  it(`${mustFail.join(", ")} fail`, () => {
    for (const id of mustFail) expect(`${id}: ${statusOf(result, id)}`).toBe(`${id}: fail`);
  });
  it("and its reports carry another configuration fingerprint than the edge as configured", () => {
    expect(result.configuration.sha256).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(result.configuration.sha256).not.toBe(stack.environment.configuration.sha256);
  });
}

describe("the real edge with token binding off on its mTLS route: token scenarios fail", () => {
  misconfigured({ binding: "off" }, ["token"], BINDING_OFF_FAILS);
});

describe("the real edge with the Directory check off on its mTLS route: directory scenarios fail", () => {
  misconfigured({ participant: "off" }, ["directory"], DIRECTORY_OFF_FAILS);
});

describe("the real edge verifying messages but not signing responses: the response scenario fails", () => {
  misconfigured({ messageSigning: "verify" }, ["messages"], ["response-signed-for-caller"], (r) => r.messageSigning === "verify-and-sign");
});

/**
 * What the suite must catch: https with `requestCert` but no policy at all — TLS 1.0 and every cipher
 * allowed, session tickets on, any client certificate accepted — forwarding every request with its headers
 * as sent to the stack's recorder and the recorder's answer back as received.
 */
async function startNaiveProxy(s: LocalStack): Promise<{ port: number; server: Server }> {
  const upstream = new URL(s.recorder.url);
  const server = createServer(
    {
      cert: readFileSync(s.pki.server.cert),
      key: readFileSync(s.pki.server.key),
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: "TLSv1",
      ciphers: "ALL:@SECLEVEL=0",
    },
    (req, res) => {
      const forward = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      forward.on("error", () => res.destroy());
      req.pipe(forward);
    },
  );
  const port = await listen(server, 0, "127.0.0.1");
  return { port, server };
}
