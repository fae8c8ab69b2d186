import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest } from "../helpers/client.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";
import { rawRequest, tlsHandshake } from "../helpers/tls-probe.js";

// Listener modes (docs/architecture.md §TLS listeners, D3). strict: no valid, policy-conforming certificate, no connection (OpenSSL
// alerts, Node drops chains failing path validation, OFB policy closes at secureConnection). permissive:
// the handshake accepts anything; mTLS routes answer 401 in the OFB error format (OFB OpenAPI ResponseError).

type Edge = Awaited<ReturnType<typeof startTestEdge>>;
const API = "/open-banking/accounts/v2/accounts";

let pki: TestPkiManifest;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
let strict: Edge;
let permissive: Edge;

beforeAll(async () => {
  pki = await testPki();
  backend = await startRecordingBackend();
  strict = await startTestEdge({ pki, upstream: backend.url, mode: "strict" });
  permissive = await startTestEdge({ pki, upstream: backend.url, mode: "permissive" });
});

afterAll(async () => {
  await strict?.close();
  await permissive?.close();
  await backend?.close();
});

async function handshakeFailures(edge: Edge, reason: string): Promise<number> {
  return (await edge.metrics.handshakeFailures.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

/**
 * Handshake, then one request. TLS 1.3 clients finish their side of the handshake before the server has
 * read their certificate, so a strict listener's refusal may arrive after `secureConnect`: either way the
 * client gets no HTTP status, and `error` is what ended the connection.
 */
async function attempt(port: number, options: object): Promise<{ status: number; error: string | undefined }> {
  const outcome = await tlsHandshake(pki, port, options);
  if (!outcome.ok) return { status: 0, error: outcome.error.code };
  return rawRequest(outcome.socket, API);
}

/** One `kind: "tls"` log line matching `fields` appears (handshake failures are logged from Node events). */
async function expectTlsLog(edge: Edge, fields: Record<string, unknown>) {
  await vi.waitFor(() => expect(edge.logs).toContainEqual(expect.objectContaining({ kind: "tls", listener: "mtls", ...fields })));
}

describe("strict listener", () => {
  it.each([
    ["TLSv1.3" as const, /ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED/],
    ["TLSv1.2" as const, /ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE/],
  ])("a %s client without a certificate fails the handshake with an alert; logged and counted, nothing forwarded", async (version, alert) => {
    const received = backend.received.length;
    const reason = "ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE";
    const before = await handshakeFailures(strict, reason);
    const { status, error } = await attempt(strict.port, { maxVersion: version });
    expect(status).toBe(0);
    expect(error).toMatch(alert);
    await vi.waitFor(async () => expect(await handshakeFailures(strict, reason)).toBe(before + 1));
    await expectTlsLog(strict, { event: "handshake-failed", code: reason });
    expect(backend.received.length).toBe(received);
  });

  it.each([
    ["other-ca", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "CERT_UNTRUSTED", "unknown CA (chain does not reach a trust anchor)"],
    ["expired", "CERT_HAS_EXPIRED", "CERT_EXPIRED", "certificate expired"],
    ["self-signed", "DEPTH_ZERO_SELF_SIGNED_CERT", "CERT_SELF_SIGNED", "self-signed certificate"],
    // OpenSSL's SSL-client purpose also wants digitalSignature in keyUsage, so this never reaches OFB policy.
    ["no-digital-signature", "INVALID_PURPOSE", "CERT_INVALID_PURPOSE", "chain not valid for client authentication (EKU)"],
  ])("%s: a chain failing OpenSSL path validation is dropped before any HTTP byte, logged with authorizationError %s and the reason in operator terms", async (name, authorizationError, reason, wording) => {
    const received = backend.received.length;
    const before = await handshakeFailures(strict, reason);
    expect((await attempt(strict.port, clientCredentials(pki, name))).status).toBe(0);
    await expectTlsLog(strict, { event: "handshake-failed", authorizationError, code: reason, reason: wording });
    await vi.waitFor(async () => expect(await handshakeFailures(strict, reason)).toBe(before + 1));
    expect(backend.received.length).toBe(received);
  });

  it.each([
    ["no-uid", "IDENTITY_SOFTWARE_STATEMENT_MISSING", "ofb-subject"],
    ["no-eku", "CERT_EKU_CLIENT_AUTH_MISSING", "eku-client-auth"],
    ["rsa-1024", "CERT_KEY_TOO_WEAK", "key-strength"],
  ])("%s: an OFB policy failure OpenSSL accepts closes the connection at secureConnection, logged with %s", async (name, code, rule) => {
    const received = backend.received.length;
    const before = await handshakeFailures(strict, code);
    const outcome = await tlsHandshake(pki, strict.port, clientCredentials(pki, name));
    expect(outcome.ok, "OpenSSL accepts the chain: the handshake completes").toBe(true);
    if (outcome.ok) expect((await rawRequest(outcome.socket, API)).status).toBe(0);
    await expectTlsLog(strict, { event: "client-certificate-rejected", code, rule, certIndex: 0, thumbprint: pki.clients[name]!.thumbprint, action: "connection closed" });
    expect(await handshakeFailures(strict, code)).toBe(before + 1);
    expect(backend.received.length).toBe(received);
  });

  it("serves a participant with a valid chain", async () => {
    const received = backend.received.length;
    const res = await httpsRequest({ pki, port: strict.port, credentials: clientCredentials(pki, "participant-a") });
    expect(res.status).toBe(200);
    expect(backend.received.length).toBe(received + 1);
  });
});

describe("permissive listener", () => {
  it("forwards a request without a certificate on a route with mtls: optional (/.well-known)", async () => {
    const received = backend.received.length;
    const res = await httpsRequest({ pki, port: permissive.port, path: "/.well-known/openid-configuration" });
    expect(res.status).toBe(200);
    expect(backend.received.length).toBe(received + 1);
    expect(backend.received.at(-1)!.url).toBe("/.well-known/openid-configuration");
    expect(backend.received.at(-1)!.headers["client-cert"]).toBeUndefined();
  });

  it("answers 401 CERT_REQUIRED in the OFB error format on an mTLS route without a certificate; nothing forwarded", async () => {
    const received = backend.received.length;
    const res = await httpsRequest({ pki, port: permissive.port, path: API });
    expect(res.status).toBe(401);
    expect(res.headers["content-type"]).toBe("application/json; charset=utf-8");
    const body = res.json<{ errors: { code: string; title: string; detail: string }[]; meta: { requestDateTime: string } }>();
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0]).toMatchObject({ code: "CERT_REQUIRED", title: "Client certificate required" });
    expect(body.meta.requestDateTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(backend.received.length).toBe(received);
  });

  it("completes the handshake with an untrusted chain, then answers 401 on the mTLS route and logs the rejection once", async () => {
    const received = backend.received.length;
    const res = await httpsRequest({ pki, port: permissive.port, path: API, credentials: clientCredentials(pki, "other-ca") });
    expect(res.status).toBe(401);
    expect(res.json<{ errors: { code: string }[] }>().errors[0]!.code).toBe("CERT_UNTRUSTED");
    await expectTlsLog(permissive, { event: "client-certificate-rejected", code: "CERT_UNTRUSTED", authorizationError: "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", action: "routes decide" });
    expect(backend.received.length).toBe(received);
  });

  it("does not forward a rejected certificate on an optional route: the request goes on without identity", async () => {
    const received = backend.received.length;
    const res = await httpsRequest({ pki, port: permissive.port, path: "/.well-known/jwks.json", credentials: clientCredentials(pki, "other-ca") });
    expect(res.status).toBe(200);
    expect(backend.received.length).toBe(received + 1);
    expect(backend.received.at(-1)!.headers["client-cert"]).toBeUndefined();
  });
});
