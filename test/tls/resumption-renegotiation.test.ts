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
// disabled". RFC 9440 §3 adds why for an mTLS edge: a resumed session may not carry the client certificate. Session
// tickets the server cannot honour are not sent either: they are waste, and scanners read them as resumption on.

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
 * Connects and completes one request, so that every session ticket the server sends has arrived (TLS 1.3 sends them
 * after the handshake): what the client was handed, the session state (TLS 1.2 session, TLS 1.3 NewSessionTicket
 * messages, one `session` event each) and the TLS 1.2 ticket.
 */
async function firstConnection(port: number, version: SecureVersion) {
  const options: ConnectionOptions = { ...clientCredentials(pki, "participant-a"), minVersion: version, maxVersion: version };
  const first = await tlsHandshake(pki, port, options);
  if (!first.ok) throw first.error;
  const ticket = first.socket.getTLSTicket();
  expect((await rawRequest(first.socket, PATH)).status).toBeGreaterThan(0);
  return { options, sessions: [...first.sessions], ticket };
}

/** Reconnects offering `session` (state some server handed out); whether it was resumed, and the response's status. */
async function offer(port: number, options: ConnectionOptions, session: Buffer) {
  const second = await tlsHandshake(pki, port, { ...options, session });
  if (!second.ok) throw second.error;
  const reused = second.socket.isSessionReused();
  return { reused, status: (await rawRequest(second.socket, PATH)).status };
}

describe("TLS session resumption is not honoured, and nothing to resume is handed out", () => {
  it.each<[SecureVersion, string]>([
    ["TLSv1.2", "session id or ticket"],
    ["TLSv1.3", "PSK from a NewSessionTicket"],
  ])("a %s client offering a session (%s) gets a full handshake and is served", async (version) => {
    // The probe does observe resumption when a server allows it: Node's defaults, same certificate.
    const control = await firstConnection(controlPort, version);
    expect((await offer(controlPort, control.options, control.sessions.at(-1)!)).reused, "a server with Node's defaults resumes").toBe(true);
    const received = backend.received.length;
    // The edge hands out no session state (below): the session offered is the one another server issued.
    const attempt = await offer(edge.port, control.options, control.sessions.at(-1)!);
    expect(attempt.reused).toBe(false);
    expect(attempt.status).toBe(200);
    expect(backend.received.length).toBe(received + 1);
  });

  it("hands a TLS 1.2 client neither a session ticket nor a resumable session", async () => {
    const control = await firstConnection(controlPort, "TLSv1.2");
    expect(control.ticket, "a server with Node's defaults issues a ticket").toBeInstanceOf(Buffer);
    expect(control.sessions.length).toBeGreaterThan(0);
    const edgeFirst = await firstConnection(edge.port, "TLSv1.2");
    expect(edgeFirst.ticket).toBeUndefined();
    expect(edgeFirst.sessions).toEqual([]);
  });

  it("sends a TLS 1.3 client no NewSessionTicket at all (OpenSSL sends 2 per handshake by default, SSL_OP_NO_TICKET or not)", async () => {
    expect((await firstConnection(controlPort, "TLSv1.3")).sessions, "a server with Node's defaults sends two").toHaveLength(2);
    expect((await firstConnection(edge.port, "TLSv1.3")).sessions).toEqual([]);
  });

  it("still sends none after a reload has replaced the secure context", async () => {
    const own = await startTestEdge({ pki, upstream: backend.url, mode: "strict" });
    try {
      await own.edge.reload(own.config);
      expect((await firstConnection(own.port, "TLSv1.3")).sessions).toEqual([]);
      expect((await firstConnection(own.port, "TLSv1.2")).sessions).toEqual([]);
    } finally {
      await own.close();
    }
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
