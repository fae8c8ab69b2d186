import type { TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";
import { keepAliveClient } from "../helpers/tls-probe.js";

// docs/architecture.md §Pipeline: work that depends only on the connection (chain policy, identity) is done once per TLS
// connection and cached on the socket, not once per request.
//
// Observables: the edge's own counters (`connections` per TLS connection, `requests` per request), the
// rejection log line written when the verdict is computed, and how often the edge reads the peer certificate
// off the server-side socket (tls/peer.ts is the one place that does; a per-request evaluation would read it
// on every request): the leaf once per connection, the whole presented chain (Node's costly call) only the
// first time a client's certificate is seen. The socket is Node's real TLSSocket; the test only counts calls.

const API = "/open-banking/accounts/v2/accounts";
const REQUESTS = 4;

let pki: TestPkiManifest;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
let edge: Awaited<ReturnType<typeof startTestEdge>>;
let leafReads: number[];
let chainReads: number[];

beforeAll(async () => {
  pki = await testPki();
  backend = await startRecordingBackend();
  edge = await startTestEdge({ pki, upstream: backend.url, mode: "permissive" });
  // Prepended after the edge's own listener, so it runs first: each connection gets its own read counter.
  edge.edge.listeners[0]!.server.prependListener("secureConnection", (socket: TLSSocket) => {
    const index = leafReads.push(0) - 1;
    chainReads.push(0);
    const readLeaf = socket.getPeerCertificate.bind(socket);
    const readChain = socket.getPeerX509Certificate.bind(socket);
    socket.getPeerCertificate = ((detailed?: boolean) => {
      leafReads[index]! += 1;
      return readLeaf(detailed as false);
    }) as TLSSocket["getPeerCertificate"];
    socket.getPeerX509Certificate = () => {
      chainReads[index]! += 1;
      return readChain();
    };
  });
});

function resetReads() {
  leafReads = [];
  chainReads = [];
}

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
    resetReads();
    const [connections, requests, received] = [await counter("connections"), await counter("requests"), backend.received.length];
    expect(await overOneConnection("participant-a", REQUESTS)).toEqual(Array(REQUESTS).fill(200));
    expect(await counter("connections")).toBe(connections + 1);
    expect(await counter("requests")).toBe(requests + REQUESTS);
    expect(leafReads).toEqual([1]);
    expect(chainReads).toEqual([1]);
    expect(backend.received.length).toBe(received + REQUESTS);
    // Every forwarded request carries the identity established at the handshake.
    const forwarded = backend.received.slice(-REQUESTS).map((r) => r.headers["client-cert"]);
    expect(new Set(forwarded).size).toBe(1);
  });

  it("each new connection reads its own leaf; a certificate seen before reuses its verdict without reading the chain again", async () => {
    resetReads();
    const [connections, received] = [await counter("connections"), backend.received.length];
    expect(await overOneConnection("participant-a", 2)).toEqual([200, 200]);
    expect(await overOneConnection("participant-a", 2)).toEqual([200, 200]);
    expect(await counter("connections")).toBe(connections + 2);
    expect(leafReads).toEqual([1, 1]);
    expect(chainReads).toEqual([0, 0]);
    // The reused verdict still forwards the chain the client presented the first time (leaf + SSL AC).
    expect(backend.received.slice(received).every((r) => typeof r.headers["client-cert-chain"] === "string")).toBe(true);
  });

  it("a different certificate is evaluated on its own", async () => {
    resetReads();
    expect(await overOneConnection("participant-b", 1)).toEqual([200]);
    expect(chainReads).toEqual([1]);
  });

  it(`a rejected certificate: the rejection is logged once for the connection, each of its ${REQUESTS} requests is answered 401, none forwarded`, async () => {
    resetReads();
    const rejectionLines = () => edge.logs.filter((l) => l.kind === "tls" && l.event === "client-certificate-rejected" && l.code === "IDENTITY_SOFTWARE_STATEMENT_MISSING");
    const [logged, received] = [rejectionLines().length, backend.received.length];
    expect(await overOneConnection("no-uid", 1)).toEqual([401]);
    expect(await overOneConnection("no-uid", REQUESTS)).toEqual(Array(REQUESTS).fill(401));
    expect(rejectionLines().length).toBe(logged + 2);
    const access = edge.logs.filter((l) => l.kind === "access").slice(-REQUESTS);
    expect(access.map((l) => l.code)).toEqual(Array(REQUESTS).fill("IDENTITY_SOFTWARE_STATEMENT_MISSING"));
    expect(leafReads).toEqual([1, 1]);
    expect(chainReads).toEqual([1, 0]);
    expect(backend.received.length).toBe(received);
  });
});
