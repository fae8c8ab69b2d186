import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest } from "../helpers/client.js";
import { startTestEdge, testPki } from "../helpers/edge.js";

// "The client must send its intermediate" (OFB certificate standard: "precisa ser enviado com a cadeia
// intermediária") when the trust-anchor files hold that intermediate: OpenSSL then completes the chain from its
// store and accepts the leaf alone, so the edge judges what the client sent. Verdicts are cached per leaf; these
// tests send the same leaf with and without its AC, in both orders, on one edge, over real handshakes.

type ErrorBody = { errors: { code: string; detail: string }[] };

let pki: TestPkiManifest;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
let edge: Awaited<ReturnType<typeof startTestEdge>>;

const pems = (file: string) => readFileSync(file, "utf8").match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)!;
const key = (client: string) => readFileSync(pki.clients[client]!.key);
/** The client's leaf followed by `extra` (PEM files), as a TLS client sends them. */
const sending = (client: string, ...extra: string[]) => ({ cert: Buffer.from([pems(pki.clients[client]!.cert)[0]!, ...extra.flatMap(pems)].join("")), key: key(client) });

async function status(port: number, credentials: { cert: Buffer; key: Buffer } | undefined, headers: Record<string, string> = {}) {
  const res = await httpsRequest({ pki, port, credentials, headers });
  return { status: res.status, code: res.status === 200 ? null : res.json<ErrorBody>().errors[0]!.code, detail: res.status === 200 ? null : res.json<ErrorBody>().errors[0]!.detail };
}

beforeAll(async () => {
  pki = await testPki();
  backend = await startRecordingBackend();
  const tls = { cert: pki.server.cert, key: pki.server.key, trustAnchors: [pki.anchorFiles.bundle] };
  edge = await startTestEdge({ pki, upstream: backend.url, listeners: [{ name: "bundle", host: "127.0.0.1", port: 0, mode: "permissive", tls }] });
});

afterAll(async () => {
  await edge?.close();
  await backend?.close();
});

beforeEach(() => {
  backend.received.length = 0;
});

describe("handshakes on a listener whose trust-anchor file holds the clients' AC", () => {
  it("leaf + AC → 200; then the same leaf alone → 401 CERT_CHAIN_INCOMPLETE ('sent only its leaf'); then leaf + AC again → 200", async () => {
    expect(await status(edge.port, sending("participant-a", pki.ca.sslAc.cert))).toMatchObject({ status: 200 });
    expect(backend.received).toHaveLength(1);
    const alone = await status(edge.port, sending("participant-a"));
    expect(alone).toMatchObject({ status: 401, code: "CERT_CHAIN_INCOMPLETE" });
    expect(alone.detail).toMatch(/^the client sent only its leaf: its issuing AC 'AC TESTE SSL EV G4' must be sent with it/);
    expect(backend.received).toHaveLength(1);
    expect(await status(edge.port, sending("participant-a", pki.ca.sslAc.cert))).toMatchObject({ status: 200 });
    expect(await status(edge.port, sending("participant-a"))).toMatchObject({ status: 401, code: "CERT_CHAIN_INCOMPLETE" });
    expect(backend.received).toHaveLength(2);
  });

  it("the other order: the leaf alone first → 401, then leaf + AC → 200", async () => {
    expect(await status(edge.port, sending("participant-b"))).toMatchObject({ status: 401, code: "CERT_CHAIN_INCOMPLETE" });
    expect(await status(edge.port, sending("participant-b", pki.ca.sslAc.cert))).toMatchObject({ status: 200 });
    expect(backend.received).toHaveLength(1);
  });

  it("leaf + a certificate that is not its AC → 401, naming what was missing", async () => {
    const wrong = await status(edge.port, sending("participant-c", pki.ca.stringTypesAc.cert));
    expect(wrong).toMatchObject({ status: 401, code: "CERT_CHAIN_INCOMPLETE" });
    expect(wrong.detail).toBe("the client sent 2 certificates, none of them its issuing AC 'AC TESTE SSL EV G4', which must be sent with the leaf (the trust-anchor files complete a chain, they do not stand in for the client's)");
    expect(backend.received).toHaveLength(0);
  });

  it("the forwarded chain is what the client sent (RFC 9440 Client-Cert-Chain: its AC), not the store's completion", async () => {
    expect(await status(edge.port, sending("participant-a", pki.ca.sslAc.cert))).toMatchObject({ status: 200 });
    expect(backend.received[0]!.headers["client-cert-chain"]).toBe(`:${new X509Certificate(readFileSync(pki.ca.sslAc.cert)).raw.toString("base64")}:`);
  });
});

describe("behind a trusted terminator (trusted-proxy): the forwarded chain is completed from the same files and judged the same way", () => {
  let proxied: Awaited<ReturnType<typeof startTestEdge>>;
  const field = (file: string) => pems(file).map((p) => `:${new X509Certificate(p).raw.toString("base64")}:`).join(", ");

  beforeAll(async () => {
    const tls = { cert: pki.server.cert, key: pki.server.key, trustAnchors: [pki.anchorFiles.bundle] };
    proxied = await startTestEdge({
      pki,
      upstream: backend.url,
      listeners: [{ name: "behind-cdn", host: "127.0.0.1", port: 0, mode: "trusted-proxy", tls, trustedProxy: { profile: "rfc9440", sources: ["127.0.0.0/8", "::1"] } }],
    });
  });
  afterAll(async () => proxied?.close());

  it("leaf + AC forwarded → 200; the leaf alone → 401 CERT_CHAIN_INCOMPLETE; a retired AC → 401 CERT_ISSUER_NOT_ALLOWED; nothing forwarded on a refusal", async () => {
    const leaf = (client: string) => field(pki.clients[client]!.cert);
    const call = (headers: Record<string, string>) => status(proxied.port, undefined, headers);
    expect(await call({ "client-cert": leaf("participant-a"), "client-cert-chain": field(pki.ca.sslAc.cert) })).toMatchObject({ status: 200 });
    expect(await call({ "client-cert": leaf("participant-a") })).toMatchObject({ status: 401, code: "CERT_CHAIN_INCOMPLETE" });
    expect(await call({ "client-cert": leaf("participant-retired-ac"), "client-cert-chain": field(pki.ca.retiredAc.cert) })).toMatchObject({ status: 401, code: "CERT_ISSUER_NOT_ALLOWED" });
    expect(await call({ "client-cert": leaf("e-cnpj"), "client-cert-chain": field(pki.ca.v5Ac.cert) })).toMatchObject({ status: 401, code: "CERT_UNTRUSTED" });
    expect(backend.received).toHaveLength(1);
  });
});
