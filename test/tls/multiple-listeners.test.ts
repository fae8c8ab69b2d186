import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest } from "../helpers/client.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";
import { rawRequest, tlsHandshake } from "../helpers/tls-probe.js";

// Several listeners in one edge (docs/architecture.md §TLS listeners): each enforces its own mode, and `listeners[].routes` limits the
// routes it serves, e.g. a public port for .well-known/jwks next to the mTLS port (OFB certificate standard 2.1 §8.4: no mTLS on .well-known and jwks_uri).

const API = "/open-banking/accounts/v2/accounts";
const WELL_KNOWN = "/.well-known/openid-configuration";

let pki: TestPkiManifest;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
let edge: Awaited<ReturnType<typeof startTestEdge>>;
const port: Record<"mtls" | "public" | "hybrid", number> = { mtls: 0, public: 0, hybrid: 0 };

beforeAll(async () => {
  pki = await testPki();
  backend = await startRecordingBackend();
  const tls = { cert: pki.server.cert, key: pki.server.key, trustAnchors: [pki.trustAnchors] };
  edge = await startTestEdge({
    pki,
    upstream: backend.url,
    listeners: [
      { name: "mtls", host: "127.0.0.1", port: 0, mode: "strict", tls },
      { name: "public", host: "127.0.0.1", port: 0, mode: "permissive", tls, routes: ["well-known"] },
      { name: "hybrid", host: "127.0.0.1", port: 0, mode: "permissive", tls },
    ],
  });
  // startTestEdge returns listener 0's port; the others are read from the running edge.
  for (const l of edge.edge.listeners) port[l.name as keyof typeof port] = l.port;
});

afterAll(async () => {
  await edge?.close();
  await backend?.close();
});

function accessLines(listener: string) {
  return edge.logs.filter((l) => l.kind === "access" && l.listener === listener);
}

describe("several listeners in one edge", () => {
  it("opens one distinct port per configured listener", () => {
    expect(edge.edge.listeners.map((l) => l.name)).toEqual(["mtls", "public", "hybrid"]);
    expect(new Set(Object.values(port)).size).toBe(3);
    expect(edge.port).toBe(port.mtls);
  });

  it("strict listener: a client without a certificate fails the handshake, logged under that listener; nothing forwarded", async () => {
    const received = backend.received.length;
    const outcome = await tlsHandshake(pki, port.mtls, {});
    const status = outcome.ok ? (await rawRequest(outcome.socket, WELL_KNOWN)).status : 0;
    expect(status).toBe(0);
    await vi.waitFor(() => expect(edge.logs).toContainEqual(expect.objectContaining({ kind: "tls", listener: "mtls", event: "handshake-failed" })));
    expect(edge.logs.some((l) => l.kind === "tls" && l.listener !== "mtls")).toBe(false);
    expect(backend.received.length).toBe(received);
  });

  it("strict listener: serves a valid participant on every route (no routes list: all routes)", async () => {
    const received = backend.received.length;
    const credentials = clientCredentials(pki, "participant-a");
    expect((await httpsRequest({ pki, port: port.mtls, path: API, credentials })).status).toBe(200);
    expect((await httpsRequest({ pki, port: port.mtls, path: WELL_KNOWN, credentials })).status).toBe(200);
    expect(backend.received.length).toBe(received + 2);
  });

  it("public listener (routes: [well-known]): serves .well-known without a certificate", async () => {
    const received = backend.received.length;
    const res = await httpsRequest({ pki, port: port.public, path: WELL_KNOWN });
    expect(res.status).toBe(200);
    expect(backend.received.length).toBe(received + 1);
    expect(accessLines("public").at(-1)).toMatchObject({ route: "well-known", status: 200, decision: "forwarded" });
  });

  it("public listener: does not serve the mTLS API at all, even to a valid participant (404, nothing forwarded)", async () => {
    const received = backend.received.length;
    const res = await httpsRequest({ pki, port: port.public, path: API, credentials: clientCredentials(pki, "participant-a") });
    expect(res.status).toBe(404);
    expect(res.json<{ errors: { code: string }[] }>().errors[0]!.code).toBe("ROUTE_NOT_FOUND");
    expect(backend.received.length).toBe(received);
  });

  it("hybrid listener: the mTLS API without a certificate is 401 CERT_REQUIRED, .well-known is served", async () => {
    const received = backend.received.length;
    const api = await httpsRequest({ pki, port: port.hybrid, path: API });
    expect(api.status).toBe(401);
    expect(api.json<{ errors: { code: string }[] }>().errors[0]!.code).toBe("CERT_REQUIRED");
    expect(backend.received.length).toBe(received);
    expect((await httpsRequest({ pki, port: port.hybrid, path: WELL_KNOWN })).status).toBe(200);
    expect(backend.received.length).toBe(received + 1);
    expect(accessLines("hybrid").slice(-2).map((l) => [l.route, l.status])).toEqual([
      ["open-banking", 401],
      ["well-known", 200],
    ]);
  });
});
