import { readFileSync } from "node:fs";
import { connect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";

/**
 * A client that asks for a TLS renegotiation (refused: OFB security profile, "TLS renegotiation shall be disabled")
 * must not leave the edge's socket open (CLOSE-WAIT): such sockets kept a draining edge
 * alive for minutes.
 */

let pki: TestPkiManifest;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
let edge: Awaited<ReturnType<typeof startTestEdge>>;

beforeAll(async () => {
  pki = await testPki();
  backend = await startRecordingBackend();
  edge = await startTestEdge({ pki, upstream: backend.url });
});

afterAll(async () => {
  await edge?.close();
  await backend?.close();
});

function connections(): Promise<number> {
  return new Promise((resolve, reject) => edge.edge.listeners[0]!.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
}

describe("a renegotiation probe", () => {
  it("is refused, and the edge closes the connection rather than leave it half-closed", async () => {
    const socket = connect({ host: "127.0.0.1", port: edge.port, servername: "localhost", ca: readFileSync(pki.trustAnchors), ...clientCredentials(pki, "participant-a"), maxVersion: "TLSv1.2" });
    await new Promise((resolve) => socket.once("secureConnect", resolve));
    expect(await connections()).toBe(1);
    const refused = new Promise<NodeJS.ErrnoException>((resolve) => socket.once("error", resolve));
    socket.renegotiate({ rejectUnauthorized: false }, () => undefined);
    expect((await refused).code).toBe("ERR_SSL_NO_RENEGOTIATION");
    await vi.waitFor(async () => expect(await connections()).toBe(0), { timeout: 2_000 });
    socket.destroy();
  });
});
