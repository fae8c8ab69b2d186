import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest } from "../helpers/client.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";
import { keepAliveClient, rawRequest, tlsHandshake } from "../helpers/tls-probe.js";

// Validity against the injected clock ("verify at T": one clock for every depth). OpenSSL checks
// dates against the system time in the handshake; the edge's own clock decides, per request, so a kept-alive
// connection stops being served the second its certificate expires. RFC 5280 §4.1.2.5: notAfter is inclusive.

const API = "/open-banking/accounts/v2/accounts";
type ErrorBody = { errors: { code: string; detail: string }[] };

let pki: TestPkiManifest;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
let notBefore: Date;
let notAfter: Date;
/** The edges' clock: tests move it. */
let now: Date;
const clock = () => now;

beforeAll(async () => {
  pki = await testPki();
  backend = await startRecordingBackend();
  const leaf = new X509Certificate(readFileSync(pki.clients["participant-a"]!.cert));
  notBefore = new Date(leaf.validFrom);
  notAfter = new Date(leaf.validTo);
  // The leaf must set the chain's validity window for the certIndex assertions below.
  for (const ca of [pki.ca.sslAc.cert, pki.ca.root.cert]) {
    const c = new X509Certificate(readFileSync(ca));
    expect(new Date(c.validTo).getTime()).toBeGreaterThanOrEqual(notAfter.getTime());
    expect(new Date(c.validFrom).getTime()).toBeLessThanOrEqual(notBefore.getTime());
  }
});

afterAll(async () => {
  await backend?.close();
});

async function withEdge(mode: "strict" | "permissive", run: (edge: Awaited<ReturnType<typeof startTestEdge>>) => Promise<void>) {
  const edge = await startTestEdge({ pki, upstream: backend.url, mode, clock });
  try {
    await run(edge);
  } finally {
    await edge.close();
  }
}

describe("certificate validity against the injected clock", () => {
  it("an edge whose clock is past participant-a's notAfter rejects it with CERT_EXPIRED (certIndex 0), though OpenSSL accepted the chain", async () => {
    now = new Date(notAfter.getTime() + 1000);
    await withEdge("permissive", async (edge) => {
      const received = backend.received.length;
      const res = await httpsRequest({ pki, port: edge.port, credentials: clientCredentials(pki, "participant-a") });
      expect(res.status).toBe(401);
      expect(res.json<ErrorBody>().errors[0]!.code).toBe("CERT_EXPIRED");
      expect(edge.logs.filter((l) => l.kind === "access").at(-1)).toMatchObject({ code: "CERT_EXPIRED", certIndex: 0, status: 401 });
      expect(backend.received.length).toBe(received);
    });
  });

  it("an edge whose clock is before participant-a's notBefore rejects it with CERT_NOT_YET_VALID", async () => {
    now = new Date(notBefore.getTime() - 1000);
    await withEdge("permissive", async (edge) => {
      const received = backend.received.length;
      const res = await httpsRequest({ pki, port: edge.port, credentials: clientCredentials(pki, "participant-a") });
      expect(res.status).toBe(401);
      expect(res.json<ErrorBody>().errors[0]!.code).toBe("CERT_NOT_YET_VALID");
      expect(backend.received.length).toBe(received);
    });
  });

  it("on ONE kept-alive connection: served at notAfter, rejected one second later (validity per request, chain policy per connection)", async () => {
    now = new Date(notAfter.getTime() - 60_000);
    await withEdge("permissive", async (edge) => {
      const client = keepAliveClient(pki, edge.port, clientCredentials(pki, "participant-a"));
      try {
        const received = backend.received.length;
        const early = await client.get(API);
        now = notAfter;
        const last = await client.get(API);
        expect([early.status, last.status]).toEqual([200, 200]);
        expect(backend.received.length).toBe(received + 2);

        now = new Date(notAfter.getTime() + 1000);
        const expired = await client.get(API);
        expect(expired.status).toBe(401);
        expect(expired.json<ErrorBody>().errors[0]!.code).toBe("CERT_EXPIRED");
        expect(backend.received.length).toBe(received + 2);

        expect(new Set([early.localPort, last.localPort, expired.localPort]).size).toBe(1);
        const connections = (await edge.metrics.connections.get()).values;
        expect(connections).toEqual([expect.objectContaining({ labels: { listener: "mtls", result: "accepted" }, value: 1 })]);
      } finally {
        client.close();
      }
    });
  });

  it("strict listener: a chain outside the clock's validity is closed at secureConnection, logged CERT_EXPIRED and counted", async () => {
    now = new Date(notAfter.getTime() + 1000);
    await withEdge("strict", async (edge) => {
      const received = backend.received.length;
      const outcome = await tlsHandshake(pki, edge.port, clientCredentials(pki, "participant-a"));
      if (!outcome.ok) throw outcome.error;
      expect((await rawRequest(outcome.socket, API)).status).toBe(0);
      await vi.waitFor(() =>
        expect(edge.logs).toContainEqual(expect.objectContaining({ kind: "tls", event: "client-certificate-rejected", code: "CERT_EXPIRED", rule: "validity", certIndex: 0, action: "connection closed" })),
      );
      const failures = (await edge.metrics.handshakeFailures.get()).values;
      expect(failures).toEqual([expect.objectContaining({ labels: { listener: "mtls", reason: "CERT_EXPIRED" }, value: 1 })]);
      expect(backend.received.length).toBe(received);
    });
  });
});
