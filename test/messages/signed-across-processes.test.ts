import { dirname } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMockDirectory, type MockDirectory } from "../../src/directory/mock.js";
import { testMessageSigner, type TestMessageSigner, type TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest } from "../helpers/client.js";
import { clientCredentials, testPki } from "../helpers/edge.js";
import { redisUrl, uniquePrefix } from "../helpers/redis.js";
import { spawnEdge, type SpawnedEdge } from "../helpers/serve-process.js";
import { CONSENTS, ofbCode, PUBLIC_BASE } from "../helpers/signing.js";

/**
 * A `jti` is used once "across every replica" (OFB security profile: unique within 24 h): two `ofb-edge serve`
 * processes sharing one Redis refuse on one a message the other accepted; one process with two workers and the
 * memory store (the primary's, asked over IPC) refuses a replay whichever worker the new connection lands on.
 */

let pki: TestPkiManifest;
let mock: MockDirectory;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
let signer: TestMessageSigner;
const edges: SpawnedEdge[] = [];

beforeAll(async () => {
  pki = await testPki();
  [mock, backend, signer] = await Promise.all([startMockDirectory({ fixtureDir: dirname(pki.directory.participants) }), startRecordingBackend(), testMessageSigner(pki, "participant-a")]);
});

afterAll(async () => {
  for (const e of edges) {
    await e.stop();
    await e.cleanup();
  }
  await Promise.all([mock?.close(), backend?.close()]);
});

/** `ofb-edge serve` verifying and signing payment messages with the given jti store. */
async function serve(replayStore: Record<string, unknown>, workers: number): Promise<SpawnedEdge> {
  const bank = pki.signingKeys.bank!;
  const edge = await spawnEdge({
    listeners: [{ name: "edge", host: "127.0.0.1", port: 0, mode: "permissive", publicBaseUrl: PUBLIC_BASE, tls: { cert: pki.server.cert, key: pki.server.key, trustAnchors: [pki.trustAnchors] } }],
    policy: { transportRoots: [pki.ca.root.cert] },
    routes: [{ name: "payments", pathPrefix: "/open-banking/payments/", upstream: backend.url, messageSigning: "verify-and-sign" }],
    directory: { participantsUrl: mock.participantsUrl, keystoreUrl: mock.keystoreUrl, store: { type: "memory" } },
    messageSigning: { organisationId: pki.bank.organisationId, signingKey: { file: bank.key, kid: bank.kid }, replayStore },
    revocation: { mode: "off" },
    workers,
  });
  edges.push(edge);
  return edge;
}

/** One signed POST on a new TLS connection. */
const post = (edge: SpawnedEdge, jws: string) =>
  httpsRequest({ pki, port: edge.port, credentials: clientCredentials(pki, "participant-a"), path: CONSENTS, method: "POST", headers: { "content-type": "application/jwt" }, body: jws });

describe("jti replay across edges", () => {
  it("two processes sharing a Redis: a message accepted by the first is refused by the second (403 INVALID_CLIENT), the backend receives it once", async () => {
    const replayStore = { type: "redis", url: redisUrl(), keyPrefix: uniquePrefix() };
    const [first, second] = await Promise.all([serve(replayStore, 1), serve(replayStore, 1)]);
    const jws = await signer.sign({ aud: `${PUBLIC_BASE}${CONSENTS}` });
    const before = backend.received.length;
    expect((await post(first, jws)).status).toBe(200);
    const replay = await post(second, jws);
    expect({ status: replay.status, code: ofbCode(replay) }).toEqual({ status: 403, code: "INVALID_CLIENT" });
    expect(backend.received.length).toBe(before + 1);
    // A fresh message is accepted by the second process: it verifies on its own, only the jti is shared.
    expect((await post(second, await signer.sign({ aud: `${PUBLIC_BASE}${CONSENTS}` }))).status).toBe(200);
  });

  it("one process with two workers and the memory store: a replay is refused on every new connection, whichever worker takes it", async () => {
    const edge = await serve({ type: "memory" }, 2);
    expect(edge.workers).toHaveLength(2);
    const jws = await signer.sign({ aud: `${PUBLIC_BASE}${CONSENTS}` });
    const before = backend.received.length;
    const statuses: number[] = [];
    // New connections are handed to the workers in turn: eight of them reach both.
    for (let i = 0; i < 8; i++) statuses.push((await post(edge, jws)).status);
    expect(statuses).toEqual([200, 403, 403, 403, 403, 403, 403, 403]);
    expect(backend.received.length).toBe(before + 1);
    const workersSeen = new Set(edge.logs().filter((l) => l.kind === "access" && l.path === CONSENTS).map((l) => l.worker));
    expect(workersSeen.size).toBe(2);
  });
});
