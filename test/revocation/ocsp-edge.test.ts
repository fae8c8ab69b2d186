import { createHash, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { Agent } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest } from "../helpers/client.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";
import { startCrlServer, type CrlServer } from "./crl-server.js";
import { HOUR, revocationPki, signCrl, type RevocationPki } from "./fixtures.js";
import { hex, startOcspResponder, type OcspResponder, type OcspRoute } from "./ocsp-responder.js";

/**
 * OCSP through the edge: ssl-ac's responder (configured by `revocation.ocsp.responders`, as the run's test PKI
 * issues no AIA) answers the `revoked` client revoked while ssl-ac's CRL lists nothing. The answer is obtained
 * before the connection's first request is checked; nothing it rejects reaches the backend.
 */

let pki: TestPkiManifest;
let r: RevocationPki;
let crls: CrlServer;
let responder: OcspResponder;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
const sha256 = (pem: string) => createHash("sha256").update(new X509Certificate(pem).raw).digest("hex");
const serial = (name: string) => hex(new X509Certificate(readFileSync(pki.clients[name]!.cert)).serialNumber);

beforeAll(async () => {
  pki = await testPki();
  r = await revocationPki(pki);
  [crls, responder, backend] = await Promise.all([startCrlServer(), startOcspResponder(), startRecordingBackend()]);
  const now = new Date();
  crls.serve("/ssl-ac.crl", { body: await signCrl(r.sslAc, { thisUpdate: now, nextUpdate: new Date(now.getTime() + HOUR) }) });
  crls.serve("/root.crl", { body: await signCrl(r.root, { thisUpdate: now, nextUpdate: new Date(now.getTime() + HOUR) }) });
  crls.serve("/listed/ssl-ac.crl", { body: await signCrl(r.sslAc, { thisUpdate: now, nextUpdate: new Date(now.getTime() + HOUR), revoked: [{ serial: serial("revoked") }] }) });
});

afterAll(async () => {
  await crls?.close();
  await responder?.close();
  await backend?.close();
});

function route(over: Partial<OcspRoute> = {}): OcspRoute {
  const now = Date.now();
  return { signer: r.sslAc, thisUpdate: new Date(now - 60_000), nextUpdate: new Date(now + HOUR), revoked: { [serial("revoked")]: { at: new Date(now - HOUR), reason: 1 } }, ...over };
}

function revocation(ocspPath: string, crl = { path: "/ssl-ac.crl", onStale: "soft-fail" as "soft-fail" | "hard-fail" }) {
  return {
    mode: "crl" as const,
    onStale: crl.onStale,
    urls: { [sha256(readFileSync(pki.ca.sslAc.cert, "utf8"))]: [crls.url(crl.path)], [sha256(readFileSync(pki.ca.root.cert, "utf8"))]: [crls.url("/root.crl")] },
    ocsp: { enabled: true, responders: { [sha256(readFileSync(pki.ca.sslAc.cert, "utf8"))]: responder.url(ocspPath) } },
  };
}

const request = (port: number, client: string) => httpsRequest({ pki, port, credentials: clientCredentials(pki, client) });
const asked = (path: string, client: string) => responder.received(path).filter((q) => q.serial === serial(client)).length;

describe("OCSP in the pipeline", () => {
  it("OCSP revoked is 401 CERT_REVOKED on the first request and never forwarded; a good client passes, one OCSP request for two connections", async () => {
    responder.serve("/edge/ocsp", route());
    const edge = await startTestEdge({ pki, upstream: backend.url, revocation: revocation("/edge/ocsp"), admin: { host: "127.0.0.1", port: 0 } });
    try {
      const before = backend.received.length;
      const res = await request(edge.port, "revoked");
      expect(res.status).toBe(401);
      const error = res.json<{ errors: { code: string; detail: string }[] }>().errors[0]!;
      expect(error.code).toBe("CERT_REVOKED");
      expect(error.detail).toContain("(OCSP response signed by");
      expect(backend.received.length).toBe(before);
      expect(edge.logs.some((l) => l.kind === "access" && l.code === "CERT_REVOKED" && l.certIndex === 0)).toBe(true);
      expect(edge.logs.some((l) => l.kind === "revocation" && l.event === "ocsp-revoked")).toBe(true);

      expect((await request(edge.port, "participant-a")).status).toBe(200);
      expect((await request(edge.port, "participant-a")).status).toBe(200);
      expect(backend.received.length).toBe(before + 2);
      expect([asked("/edge/ocsp", "participant-a"), asked("/edge/ocsp", "revoked")]).toEqual([1, 1]);
      const metrics = await (await fetch(`http://127.0.0.1:${edge.edge.adminPort}/metrics`)).text();
      expect(metrics).toMatch(/ofb_edge_ocsp_requests_total\{outcome="revoked"\} 1/);
      expect(metrics).toMatch(/ofb_edge_ocsp_requests_total\{outcome="good"\} 1/);
    } finally {
      await edge.close();
    }
  });

  it("concurrent first connections of one client share one OCSP exchange", async () => {
    responder.serve("/concurrent/ocsp", route({ delayMs: 300 }));
    const edge = await startTestEdge({ pki, upstream: backend.url, revocation: revocation("/concurrent/ocsp") });
    try {
      const statuses = await Promise.all([0, 1, 2].map(() => request(edge.port, "participant-a").then((res) => res.status)));
      expect(statuses).toEqual([200, 200, 200]);
      expect(asked("/concurrent/ocsp", "participant-a")).toBe(1);
    } finally {
      await edge.close();
    }
  });

  it("a strict listener closes a revoked client's first connection once its OCSP answer is in, and the next one at the handshake", async () => {
    responder.serve("/strict/ocsp", route());
    const edge = await startTestEdge({ pki, upstream: backend.url, mode: "strict", revocation: revocation("/strict/ocsp") });
    try {
      const before = backend.received.length;
      // ssl-ac's CRL is first needed by this connection: its request waits for that CRL and the OCSP answer, then
      // the connection is closed as at the handshake.
      await expect(request(edge.port, "revoked")).rejects.toThrow();
      // The answer is held now: the handshake check itself closes the connection.
      await expect(request(edge.port, "revoked")).rejects.toThrow();
      expect(edge.logs.filter((l) => l.kind === "tls" && l.code === "CERT_REVOKED" && l.rule === "revocation")).toHaveLength(2);
      expect(edge.logs.some((l) => l.kind === "access")).toBe(false);
      expect(backend.received.length).toBe(before);
      expect(asked("/strict/ocsp", "revoked")).toBe(1);
    } finally {
      await edge.close();
    }
  });

  it("a failing responder leaves the decision to the CRL: the client it lists is refused, another passes", async () => {
    responder.serve("/down/ocsp", { status: 503 });
    const edge = await startTestEdge({ pki, upstream: backend.url, revocation: revocation("/down/ocsp", { path: "/listed/ssl-ac.crl", onStale: "hard-fail" }) });
    try {
      // hard-fail: 503 until the CRLs are in (the first sight of the ACs fetches them).
      await expect.poll(async () => (await request(edge.port, "participant-a")).status, { timeout: 10_000, interval: 100 }).toBe(200);
      const before = backend.received.length;
      const res = await request(edge.port, "revoked");
      expect(res.status).toBe(401);
      expect(res.json<{ errors: { code: string; detail: string }[] }>().errors[0]).toMatchObject({ code: "CERT_REVOKED", detail: expect.stringContaining("(CRL of ") });
      expect(backend.received.length).toBe(before);
      expect(edge.logs.some((l) => l.kind === "revocation" && l.event === "ocsp-failed" && l.reason === "HTTP 503")).toBe(true);
    } finally {
      await edge.close();
    }
  });

  it("behind a trusted terminator, every client forwarded on one kept-alive connection gets its own OCSP answer before its first check", async () => {
    responder.serve("/proxy/ocsp", route());
    const tls = { cert: pki.server.cert, key: pki.server.key, trustAnchors: [pki.trustAnchors] };
    const edge = await startTestEdge({
      pki,
      upstream: backend.url,
      listeners: [{ name: "behind-cdn", host: "127.0.0.1", port: 0, mode: "trusted-proxy", tls, trustedProxy: { profile: "rfc9440", sources: ["127.0.0.0/8"] } }],
      revocation: revocation("/proxy/ocsp"),
    });
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: readFileSync(pki.trustAnchors) });
    const sfBinary = (pem: string) => `:${new X509Certificate(pem).raw.toString("base64")}:`;
    const forwardedBy = (client: string) =>
      httpsRequest({ pki, port: edge.port, headers: { "client-cert": sfBinary(readFileSync(pki.clients[client]!.cert, "utf8")), "client-cert-chain": sfBinary(readFileSync(pki.ca.sslAc.cert, "utf8")) }, tls: { agent } });
    try {
      expect((await forwardedBy("participant-a")).status).toBe(200);
      const before = backend.received.length;
      // Same terminator connection, another client: only OCSP knows it is revoked (ssl-ac's CRL lists nothing).
      const res = await forwardedBy("revoked");
      expect(res.status).toBe(401);
      expect(res.json<{ errors: { code: string }[] }>().errors[0]!.code).toBe("CERT_REVOKED");
      expect(backend.received.length).toBe(before);
      expect(asked("/proxy/ocsp", "revoked")).toBe(1);
    } finally {
      agent.destroy();
      await edge.close();
    }
  });
});
