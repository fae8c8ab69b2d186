import type { TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";
import { keepAliveClient } from "../helpers/tls-probe.js";

// DESIGN §pipeline: work that depends only on the connection (chain policy, identity) is done once per TLS
// connection and cached on the socket, not once per request.
//
// Observables: the edge's own counters (`connections` per TLS connection, `requests` per request), the
// rejection log line written when the verdict is computed, and how often the edge reads the peer certificate
// off the server-side socket (tls/peer.ts is the one place that does; a per-request evaluation would read it
// on every request). The socket is Node's real TLSSocket; the test only counts calls through to it.

const API = "/open-banking/accounts/v2/accounts";
const REQUESTS = 4;

let pki: TestPkiManifest;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
let edge: Awaited<ReturnType<typeof startTestEdge>>;
let peerCertificateReads: number[];

beforeAll(async () => {
  pki = await testPki();
  backend = await startRecordingBackend();
  edge = await startTestEdge({ pki, upstream: backend.url, mode: "permissive" });
  // Prepended after the edge's own listener, so it runs first: each connection gets its own read counter.
  edge.edge.listeners[0]!.server.prependListener("secureConnection", (socket: TLSSocket) => {
    const index = peerCertificateReads.push(0) - 1;
    const read = socket.getPeerX509Certificate.bind(socket);
    socket.getPeerX509Certificate = () => {
      peerCertificateReads[index]! += 1;
      return read();
    };
  });
});

afterAll(async () => {
  await edge?.close();
  await backend?.close();
});

async function counter(metric: "connections" | "requests"): Promise<number> {
  return (await edge.metrics[metric].get()).values.reduce((sum, v) => sum + v.value, 0);
}

/** `count` requests, each on the connection of the one before: returns the statuses and client ports. */
async function overOneConnection(name: string, count: number) {
  const client = keepAliveClient(pki, edge.port, clientCredentials(pki, name));
  try {
    const responses = [];
    for (let i = 0; i < count; i++) responses.push(await client.get(API));
    expect(new Set(responses.map((r) => r.localPort)).size, "one TLS connection").toBe(1);
    return responses.map((r) => r.status);
  } finally {
    client.close();
  }
}

describe("chain policy and identity are evaluated once per TLS connection", () => {
  it(`${REQUESTS} requests on one kept-alive connection: one verdict, read once from the socket, ${REQUESTS} requests served`, async () => {
    peerCertificateReads = [];
    const [connections, requests, received] = [await counter("connections"), await counter("requests"), backend.received.length];
    expect(await overOneConnection("participant-a", REQUESTS)).toEqual(Array(REQUESTS).fill(200));
    expect(await counter("connections")).toBe(connections + 1);
    expect(await counter("requests")).toBe(requests + REQUESTS);
    expect(peerCertificateReads).toEqual([1]);
    expect(backend.received.length).toBe(received + REQUESTS);
    // Every forwarded request carries the identity established at the handshake.
    const forwarded = backend.received.slice(-REQUESTS).map((r) => r.headers["client-cert"]);
    expect(new Set(forwarded).size).toBe(1);
  });

  it("a second connection from the same client gets its own evaluation", async () => {
    peerCertificateReads = [];
    const connections = await counter("connections");
    await overOneConnection("participant-a", 2);
    await overOneConnection("participant-a", 2);
    expect(await counter("connections")).toBe(connections + 2);
    expect(peerCertificateReads).toEqual([1, 1]);
  });

  it(`a rejected certificate: the rejection is logged once for the connection, each of its ${REQUESTS} requests is answered 401, none forwarded`, async () => {
    peerCertificateReads = [];
    const rejectionLines = () => edge.logs.filter((l) => l.kind === "tls" && l.event === "client-certificate-rejected" && l.code === "IDENTITY_SOFTWARE_STATEMENT_MISSING");
    const [logged, received] = [rejectionLines().length, backend.received.length];
    expect(await overOneConnection("no-uid", 1)).toEqual([401]);
    expect(await overOneConnection("no-uid", REQUESTS)).toEqual(Array(REQUESTS).fill(401));
    expect(rejectionLines().length).toBe(logged + 2);
    const access = edge.logs.filter((l) => l.kind === "access").slice(-REQUESTS);
    expect(access.map((l) => l.code)).toEqual(Array(REQUESTS).fill("IDENTITY_SOFTWARE_STATEMENT_MISSING"));
    // The rejection log line reads the socket's verify result again, at the handshake: still per connection.
    expect(peerCertificateReads).toHaveLength(2);
    expect(peerCertificateReads[1]).toBe(peerCertificateReads[0]);
    expect(backend.received.length).toBe(received);
  });
});
