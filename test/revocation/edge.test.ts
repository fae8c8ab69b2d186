import { createHash, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest } from "../helpers/client.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";
import { startCrlServer, type CrlServer } from "./crl-server.js";
import { HOUR, revocationPki, serialOf, signCrl } from "./fixtures.js";

/**
 * Revocation through the edge (docs/architecture.md, decision D4): CRLs signed by the test PKI's ACs, served over plain HTTP; the
 * `revoked` client's serial is on ssl-ac's CRL. Permissive listeners answer 401 CERT_REVOKED; strict listeners
 * close the connection; in hard-fail an AC without a usable CRL is 503 and /readyz says so. Nothing revoked
 * reaches the backend.
 */

let pki: TestPkiManifest;
let crls: CrlServer;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
const sha256 = (pem: string) => createHash("sha256").update(new X509Certificate(pem).raw).digest("hex");

beforeAll(async () => {
  pki = await testPki();
  const r = await revocationPki(pki);
  crls = await startCrlServer();
  const now = new Date();
  const revokedLeaf = new X509Certificate(readFileSync(pki.clients.revoked!.cert));
  crls.serve("/ssl-ac.crl", { body: await signCrl(r.sslAc, { thisUpdate: now, nextUpdate: new Date(now.getTime() + HOUR), revoked: [{ serial: revokedLeaf.serialNumber }] }) });
  crls.serve("/root.crl", { body: await signCrl(r.root, { thisUpdate: now, nextUpdate: new Date(now.getTime() + HOUR) }) });
  expect(serialOf(r.sslAc)).toMatch(/^[0-9a-f]+$/i);
  backend = await startRecordingBackend();
});

afterAll(async () => {
  await crls?.close();
  await backend?.close();
});

function revocation(paths: { ac: string; root: string }, onStale: "soft-fail" | "hard-fail") {
  return {
    mode: "crl" as const,
    onStale,
    urls: { [sha256(readFileSync(pki.ca.sslAc.cert, "utf8"))]: [crls.url(paths.ac)], [sha256(readFileSync(pki.ca.root.cert, "utf8"))]: [crls.url(paths.root)] },
  };
}

describe("CRL revocation in the pipeline", () => {
  it("a revoked certificate is 401 CERT_REVOKED (operator reason logged), others pass, nothing revoked is forwarded", async () => {
    const edge = await startTestEdge({ pki, upstream: backend.url, revocation: revocation({ ac: "/ssl-ac.crl", root: "/root.crl" }, "hard-fail"), admin: { host: "127.0.0.1", port: 0 } });
    try {
      // The first sight of the AC fetches its CRL; the first connection waits for it, so hard-fail does not refuse it.
      expect((await httpsRequest({ pki, port: edge.port, credentials: clientCredentials(pki, "participant-a") })).status).toBe(200);
      const before = backend.received.length;
      const res = await httpsRequest({ pki, port: edge.port, credentials: clientCredentials(pki, "revoked") });
      expect(res.status).toBe(401);
      const error = res.json<{ errors: { code: string; detail: string }[] }>().errors[0]!;
      expect(error.code).toBe("CERT_REVOKED");
      expect(backend.received.length).toBe(before);
      expect(edge.logs.some((l) => l.kind === "access" && l.code === "CERT_REVOKED" && l.reason === "revoked (CRL or OCSP)" && l.certIndex === 0)).toBe(true);
      expect((await fetch(`http://127.0.0.1:${edge.edge.adminPort}/readyz`)).status).toBe(200);
      const metrics = await (await fetch(`http://127.0.0.1:${edge.edge.adminPort}/metrics`)).text();
      expect(metrics).toMatch(/ofb_edge_crl_age_seconds\{ac="AC TESTE SSL EV G4",status="fresh"\} \d/);
      expect(metrics).toMatch(/ofb_edge_crl_revoked_serials\{ac="AC TESTE SSL EV G4"\} 1/);
    } finally {
      await edge.close();
    }
  });

  it("a strict listener closes a revoked client's connection", async () => {
    const edge = await startTestEdge({ pki, upstream: backend.url, mode: "strict", revocation: revocation({ ac: "/ssl-ac.crl", root: "/root.crl" }, "soft-fail") });
    try {
      // The first connection waits for ssl-ac's first CRL (soft-fail does not let it through unchecked), the next is closed at the handshake.
      await expect(httpsRequest({ pki, port: edge.port, credentials: clientCredentials(pki, "revoked") })).rejects.toThrow();
      await expect(httpsRequest({ pki, port: edge.port, credentials: clientCredentials(pki, "revoked") })).rejects.toThrow();
      expect(edge.logs.some((l) => l.kind === "tls" && l.code === "CERT_REVOKED" && l.rule === "revocation")).toBe(true);
      expect((await httpsRequest({ pki, port: edge.port, credentials: clientCredentials(pki, "participant-a") })).status).toBe(200);
    } finally {
      await edge.close();
    }
  });

  it("hard-fail with no obtainable CRL: 503 CERT_REVOCATION_UNAVAILABLE and /readyz not ready", async () => {
    const edge = await startTestEdge({ pki, upstream: backend.url, revocation: revocation({ ac: "/missing.crl", root: "/missing-root.crl" }, "hard-fail"), admin: { host: "127.0.0.1", port: 0 } });
    try {
      const before = backend.received.length;
      const res = await httpsRequest({ pki, port: edge.port, credentials: clientCredentials(pki, "participant-a") });
      expect(res.status).toBe(503);
      expect(res.json<{ errors: { code: string }[] }>().errors[0]!.code).toBe("CERT_REVOCATION_UNAVAILABLE");
      expect(backend.received.length).toBe(before);
      await new Promise((r) => setTimeout(r, 300));
      const ready = await fetch(`http://127.0.0.1:${edge.edge.adminPort}/readyz`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { revocation: { reason: string } }).revocation.reason).toContain("hard-fail");
    } finally {
      await edge.close();
    }
  });
});
