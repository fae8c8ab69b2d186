import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLIENT_CATALOGUE } from "../../src/pki/test-pki/client-catalogue.js";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest } from "../helpers/client.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";

// Certificate policy (docs/architecture.md §Chain policy, D7) over real handshakes on a permissive listener, so every rejection is
// answered in HTTP: 401, the OFB error body with the reason code (OFB OpenAPI ResponseError), never forwarded.

type Edge = Awaited<ReturnType<typeof startTestEdge>>;
type ErrorBody = { errors: { code: string; title: string; detail: string }[] };

/** Revocation and the deny list need data this edge does not have (test/revocation, test/deny); the Directory codes belong to a later stage. */
const CERTIFICATE_CASES = CLIENT_CATALOGUE.filter((c) => /^(CERT|IDENTITY)_/.test(c.expect) && c.expect !== "CERT_REVOKED" && c.expect !== "CERT_DENIED");

/** Participants of the catalogue that pass every certificate rule, with a path their Directory roles allow. */
const ACCEPTED: readonly [string, string][] = [
  ["participant-a", "/open-banking/accounts/v2/accounts"],
  ["participant-b", "/open-banking/accounts/v2/accounts"],
  ["participant-c", "/open-banking/payments/v4/pix/payments"],
];

let pki: TestPkiManifest;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
let edge: Edge;

beforeAll(async () => {
  pki = await testPki();
  backend = await startRecordingBackend();
  edge = await startTestEdge({ pki, upstream: backend.url, mode: "permissive" });
});

afterAll(async () => {
  await edge?.close();
  await backend?.close();
});

/** RFC 9440 §2.1 / RFC 8941 §3.3.5: DER, base64 with padding, between colons, from Node's own PEM parser. */
function sfBinaryOfPem(file: string): string {
  return `:${new X509Certificate(readFileSync(file)).raw.toString("base64")}:`;
}

/** Sends `name`'s credentials and expects 401 with `code`, nothing forwarded. Returns the access log line. */
async function expectRejected(target: Edge, name: string, code: string, options: { chain?: boolean } = {}) {
  const received = backend.received.length;
  const res = await httpsRequest({
    pki,
    port: target.port,
    credentials: clientCredentials(pki, name, options),
    // The client does not police its own chain (SECLEVEL=0 lets it send a SHA-1 leaf): the edge must.
    tls: { ciphers: "DEFAULT@SECLEVEL=0" },
  });
  expect(res.status).toBe(401);
  expect(res.headers["content-type"]).toBe("application/json; charset=utf-8");
  // RFC 9110 §15.5.2: a 401 carries a challenge; RFC 8705 §3: the token is unusable with this certificate.
  expect(res.headers["www-authenticate"]).toMatch(/^Bearer error="invalid_token", error_description="[^"]+"$/);
  const body = res.json<ErrorBody>();
  expect(body.errors).toHaveLength(1);
  expect(body.errors[0]!.code).toBe(code);
  expect(backend.received.length).toBe(received);
  const line = target.logs.filter((l) => l.kind === "access").at(-1)!;
  expect(line).toMatchObject({ decision: "rejected", code, status: 401 });
  return line;
}

describe("every certificate and identity defect of the test PKI catalogue", () => {
  it("the generated PKI holds every catalogue case with the same expected code", () => {
    expect(CERTIFICATE_CASES.length).toBeGreaterThanOrEqual(16);
    for (const c of CERTIFICATE_CASES) expect(pki.clients[c.name]?.expect, c.name).toBe(c.expect);
  });

  it.each(CERTIFICATE_CASES.map((c) => [c.name, c.expect, c.description] as const))("%s → 401 %s (%s)", async (name, code) => {
    const line = await expectRejected(edge, name, code);
    expect(line.thumbprint).toBe(pki.clients[name]!.thumbprint);
  });
});

describe("accepted participants", () => {
  it.each(ACCEPTED)("%s is forwarded with Client-Cert = RFC 9440 sf-binary of its leaf DER, and its intermediate in Client-Cert-Chain", async (name, path) => {
    const received = backend.received.length;
    const res = await httpsRequest({ pki, port: edge.port, path, credentials: clientCredentials(pki, name) });
    expect(res.status).toBe(200);
    expect(backend.received.length).toBe(received + 1);
    const forwarded = backend.received.at(-1)!;
    expect(forwarded.url).toBe(path);
    expect(forwarded.headers["client-cert"]).toBe(sfBinaryOfPem(pki.clients[name]!.cert));
    // RFC 9440 §2.3: the chain field excludes the end-entity certificate; the anchor is the edge's own.
    expect(forwarded.headers["client-cert-chain"]).toBe(sfBinaryOfPem(pki.ca.sslAc.cert));
  });
});

describe("chain completeness (OFB certificate standard: the client sends its intermediate)", () => {
  it("a client that sends only its leaf → 401 CERT_CHAIN_INCOMPLETE", async () => {
    await expectRejected(edge, "participant-a", "CERT_CHAIN_INCOMPLETE", { chain: false });
  });
});

describe("configured policy", () => {
  const fingerprint = (file: string) => new X509Certificate(readFileSync(file)).fingerprint256;

  it("policy.allowedIssuers without the SSL AC → 401 CERT_ISSUER_NOT_ALLOWED naming the issuer's index", async () => {
    const restricted = await startTestEdge({ pki, upstream: backend.url, policy: { allowedIssuers: [fingerprint(pki.ca.otherAc.cert)] } });
    try {
      const line = await expectRejected(restricted, "participant-a", "CERT_ISSUER_NOT_ALLOWED");
      expect(line.certIndex).toBe(1);
    } finally {
      await restricted.close();
    }
  });

  it("policy.allowedIssuers with the SSL AC's SHA-256 fingerprint → accepted and forwarded", async () => {
    const allowed = await startTestEdge({ pki, upstream: backend.url, policy: { allowedIssuers: [fingerprint(pki.ca.otherAc.cert), fingerprint(pki.ca.sslAc.cert)] } });
    try {
      const received = backend.received.length;
      const res = await httpsRequest({ pki, port: allowed.port, credentials: clientCredentials(pki, "participant-a") });
      expect(res.status).toBe(200);
      expect(backend.received.length).toBe(received + 1);
    } finally {
      await allowed.close();
    }
  });

  it("policy.minRsaBits: 4096 → participant-a's 2048-bit leaf is rejected CERT_KEY_TOO_WEAK at certIndex 0", async () => {
    const demanding = await startTestEdge({ pki, upstream: backend.url, policy: { minRsaBits: 4096 } });
    try {
      const line = await expectRejected(demanding, "participant-a", "CERT_KEY_TOO_WEAK");
      expect(line.certIndex).toBe(0);
      expect(demanding.logs).toContainEqual(expect.objectContaining({ kind: "tls", event: "client-certificate-rejected", code: "CERT_KEY_TOO_WEAK", rule: "key-strength", certIndex: 0 }));
    } finally {
      await demanding.close();
    }
  });
});
