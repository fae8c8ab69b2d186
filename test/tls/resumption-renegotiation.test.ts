import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { createServer, type ConnectionOptions, type SecureVersion, type Server } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";
import { rawRequest, tlsHandshake } from "../helpers/tls-probe.js";

// OFB security profile ("Secure use of TLS"): "TLS session resumption and TLS renegotiation shall be
// disabled". RFC 9440 §3 adds why for an mTLS edge: a resumed session may not carry the client certificate.

const PATH = "/open-banking/accounts/v2/accounts";

let pki: TestPkiManifest;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
let edge: Awaited<ReturnType<typeof startTestEdge>>;
/** Node's defaults, same certificate: proves the probe below does observe resumption when a server allows it. */
let control: Server;
let controlPort: number;

beforeAll(async () => {
  pki = await testPki();
  backend = await startRecordingBackend();
  edge = await startTestEdge({ pki, upstream: backend.url, mode: "strict" });
  control = createServer({ cert: readFileSync(pki.server.cert), key: readFileSync(pki.server.key) }, (socket) => socket.end("HTTP/1.1 204 No Content\r\n\r\n"));
  await new Promise<void>((resolve) => control.listen(0, "127.0.0.1", resolve));
  controlPort = (control.address() as AddressInfo).port;
});

afterAll(async () => {
  control?.close();
  await edge?.close();
  await backend?.close();
});

/**
 * Connects and completes one request (so every session ticket the server sends has arrived), then reconnects
 * offering the last session state the client was given. Returns what the client had and whether it was reused.
 */
async function resumptionAttempt(port: number, version: SecureVersion) {
  const options: ConnectionOptions = { ...clientCredentials(pki, "participant-a"), minVersion: version, maxVersion: version };
  const first = await tlsHandshake(pki, port, options);
  if (!first.ok) throw first.error;
  const ticket = first.socket.getTLSTicket();
  expect((await rawRequest(first.socket, PATH)).status).toBeGreaterThan(0);
  const offered = first.sessions.at(-1);
  expect(offered, "the client has a session to offer").toBeInstanceOf(Buffer);
  const second = await tlsHandshake(pki, port, { ...options, session: offered });
  if (!second.ok) throw second.error;
  const reused = second.socket.isSessionReused();
  await rawRequest(second.socket, PATH);
  return { reused, ticket };
}

describe("TLS session resumption is not honoured", () => {
  it.each<[SecureVersion, string]>([
    ["TLSv1.2", "session id"],
    ["TLSv1.3", "PSK from a NewSessionTicket"],
  ])("a %s client offering its previous session (%s) gets a full handshake", async (version) => {
    expect((await resumptionAttempt(controlPort, version)).reused, "a server with Node's defaults resumes").toBe(true);
    const received = backend.received.length;
    expect((await resumptionAttempt(edge.port, version)).reused).toBe(false);
    // Both connections were full handshakes, each with its own certificate verdict, and both were served.
    expect(backend.received.length).toBe(received + 2);
  });

  it("hands a TLS 1.2 client no session ticket (SSL_OP_NO_TICKET)", async () => {
    expect((await resumptionAttempt(controlPort, "TLSv1.2")).ticket, "a server with Node's defaults issues one").toBeInstanceOf(Buffer);
    expect((await resumptionAttempt(edge.port, "TLSv1.2")).ticket).toBeUndefined();
  });
});

describe("TLS renegotiation is refused", () => {
  it("a TLS 1.2 client that asks to renegotiate gets a no_renegotiation error and the connection closes; its request is never forwarded", async () => {
    const received = backend.received.length;
    const outcome = await tlsHandshake(pki, edge.port, { ...clientCredentials(pki, "participant-a"), maxVersion: "TLSv1.2" });
    if (!outcome.ok) throw outcome.error;
    const { socket } = outcome;
    const errors: string[] = [];
    socket.on("error", (e: Error) => errors.push(e.message));
    socket.on("data", () => errors.push("unexpected HTTP response"));
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    // A request pipelined behind the renegotiation attempt: an edge that renegotiated (or ignored the
    // attempt and kept reading) would forward it.
    expect(socket.renegotiate({ rejectUnauthorized: false }, () => undefined)).toBe(true);
    socket.write(`GET ${PATH} HTTP/1.1\r\nhost: localhost\r\nx-fapi-interaction-id: ${randomUUID()}\r\n\r\n`);
    await closed;
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/no renegotiation/);
    expect(backend.received.length).toBe(received);
  });
});
