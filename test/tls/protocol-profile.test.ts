import type { SecureVersion } from "node:tls";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";
import { rawRequest, tlsHandshake } from "../helpers/tls-probe.js";

// OFB security profile ("Secure use of TLS") and FAPI 1 Part 2 §8.5: TLS ≥ 1.2; below 1.3 only
// ECDHE-RSA (and, when configured, DHE-RSA) with AES-GCM; TLS 1.3 preferred (docs/architecture.md, decision D2; OFB security profile, FAPI 1 Part 2 §8.5).

type Edge = Awaited<ReturnType<typeof startTestEdge>>;

let pki: TestPkiManifest;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
let edge: Edge;
let dheEdge: Edge;

beforeAll(async () => {
  pki = await testPki();
  backend = await startRecordingBackend();
  edge = await startTestEdge({ pki, upstream: backend.url, mode: "strict" });
  dheEdge = await startTestEdge({
    pki,
    upstream: backend.url,
    listeners: [{ name: "dhe", host: "127.0.0.1", port: 0, mode: "strict", tls: { ...edge.tlsFiles, dhe: true } }],
  });
});

afterAll(async () => {
  await edge?.close();
  await dheEdge?.close();
  await backend?.close();
});

/** A TLS 1.2-only client offering exactly `ciphers`, with participant-a's valid chain. */
function tls12(ciphers: string) {
  return { ...clientCredentials(pki, "participant-a"), minVersion: "TLSv1.2" as const, maxVersion: "TLSv1.2" as const, ciphers };
}

/** The handshake is refused with a TLS alert, the edge logs and counts the reason, and nothing is forwarded. */
async function expectRefused(target: Edge, options: object, clientError: RegExp, serverReason: string) {
  const received = backend.received.length;
  const failures = await handshakeFailures(target, serverReason);
  const outcome = await tlsHandshake(pki, target.port, options);
  expect(outcome.ok).toBe(false);
  if (!outcome.ok) expect(outcome.error.code).toMatch(clientError);
  await vi.waitFor(async () => expect(await handshakeFailures(target, serverReason)).toBe(failures + 1));
  expect(target.logs).toContainEqual(expect.objectContaining({ kind: "tls", event: "handshake-failed", code: serverReason }));
  expect(backend.received.length).toBe(received);
}

/** The handshake completes with `cipher` and a request over it reaches the backend. */
async function expectServed(target: Edge, options: object, protocol: string, cipher: string) {
  const received = backend.received.length;
  const outcome = await tlsHandshake(pki, target.port, options);
  if (!outcome.ok) throw outcome.error;
  expect({ protocol: outcome.protocol, cipher: outcome.cipher }).toEqual({ protocol, cipher });
  const exchange = await rawRequest(outcome.socket, "/open-banking/accounts/v2/accounts");
  expect(exchange.status).toBe(200);
  expect(backend.received.length).toBe(received + 1);
}

async function handshakeFailures(target: Edge, reason: string): Promise<number> {
  const metric = await target.metrics.handshakeFailures.get();
  return metric.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

describe("TLS protocol versions", () => {
  // Node 20's OpenSSL offers TLS 1.0/1.1 only at security level 0, so the client lowers its own level:
  // the edge alone must refuse the downgrade.
  it.each<[SecureVersion]>([["TLSv1"], ["TLSv1.1"]])("refuses a %s-only client with a protocol_version alert (downgrade)", async (version) => {
    const options = { ...clientCredentials(pki, "participant-a"), minVersion: version, maxVersion: version, ciphers: "DEFAULT@SECLEVEL=0" };
    await expectRefused(edge, options, /ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION/, "ERR_SSL_UNSUPPORTED_PROTOCOL");
  });

  it("negotiates TLS 1.3 with a client that offers its defaults (TLS 1.3 preferred)", async () => {
    await expectServed(edge, clientCredentials(pki, "participant-a"), "TLSv1.3", "TLS_AES_128_GCM_SHA256");
  });
});

describe("TLS 1.2 cipher suites", () => {
  it.each([
    ["AES128-GCM-SHA256", "static RSA key exchange: no forward secrecy"],
    ["ECDHE-RSA-AES128-SHA256", "CBC mode"],
    ["ECDHE-RSA-AES128-SHA", "CBC mode with SHA-1 MAC"],
    ["ECDHE-RSA-CHACHA20-POLY1305", "AEAD, but not AES-GCM"],
    ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDSA authentication (ICP-Brasil issues RSA only)"],
  ])("refuses a client offering only %s (%s)", async (cipher) => {
    await expectRefused(edge, tls12(cipher), /ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE/, "ERR_SSL_NO_SHARED_CIPHER");
  });

  it.each(["ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384"])("serves a TLS 1.2 client offering only %s (OFB 'shall support')", async (cipher) => {
    await expectServed(edge, tls12(cipher), "TLSv1.2", cipher);
  });

  it("picks an ECDHE-RSA AES-GCM suite when the client also offers weaker ones first", async () => {
    await expectServed(edge, tls12("AES128-SHA:ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-GCM-SHA384"), "TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384");
  });

  it("refuses DHE-RSA-AES128-GCM-SHA256 unless tls.dhe is configured (docs/architecture.md, decision D2)", async () => {
    await expectRefused(edge, tls12("DHE-RSA-AES128-GCM-SHA256"), /ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE/, "ERR_SSL_NO_SHARED_CIPHER");
  });

  it.each(["DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384"])("serves %s on a listener with tls.dhe: true (FAPI 1 Part 2 §8.5)", async (cipher) => {
    await expectServed(dheEdge, tls12(cipher), "TLSv1.2", cipher);
  });

  it("still refuses DHE-RSA CBC suites on a listener with tls.dhe: true", async () => {
    await expectRefused(dheEdge, tls12("DHE-RSA-AES128-SHA256:DHE-RSA-AES256-SHA"), /ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE/, "ERR_SSL_NO_SHARED_CIPHER");
  });
});
