import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { compactVerify, decodeProtectedHeader } from "jose";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
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

/** `ofb-edge serve` verifying and signing payment messages with the given jti store (and signing key file). */
async function serve(replayStore: Record<string, unknown>, workers: number, signingKey?: { file: string }): Promise<SpawnedEdge> {
  const bank = pki.signingKeys.bank!;
  const edge = await spawnEdge({
    listeners: [{ name: "edge", host: "127.0.0.1", port: 0, mode: "permissive", publicBaseUrl: PUBLIC_BASE, tls: { cert: pki.server.cert, key: pki.server.key, trustAnchors: [pki.trustAnchors] } }],
    policy: { transportRoots: [pki.ca.root.cert] },
    routes: [{ name: "payments", pathPrefix: "/open-banking/payments/", upstream: backend.url, messageSigning: "verify-and-sign" }],
    directory: { participantsUrl: mock.participantsUrl, keystoreUrl: mock.keystoreUrl, store: { type: "memory" } },
    messageSigning: { organisationId: pki.bank.organisationId, signingKey: signingKey ?? { file: bank.key, kid: bank.kid }, replayStore },
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
    // The access lines reach the primary's stdout a little after the answers.
    await vi.waitFor(() => expect(new Set(edge.logs().filter((l) => l.kind === "access" && l.path === CONSENTS).map((l) => l.worker)).size).toBe(2), { timeout: 10_000, interval: 100 });
  });

  it("the bank's signing key file (a JWK) replaced on disk: both workers sign with the new key and kid after the reload it triggers", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ofb-edge-signing-key-"));
    try {
      const jwkFile = join(dir, "bank.jwk");
      const keyPair = (kid: string) => {
        const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
        return { privateJwk: { ...privateKey.export({ format: "jwk" }), kid }, publicKey };
      };
      const [first, second] = [keyPair("bank-key-1"), keyPair("bank-key-2")];
      await writeFile(jwkFile, JSON.stringify(first.privateJwk));
      const edge = await serve({ type: "memory" }, 2, { file: jwkFile });
      const kidOf = async () => decodeProtectedHeader((await post(edge, await signer.sign({ aud: `${PUBLIC_BASE}${CONSENTS}` }))).body.toString("utf8")).kid;
      expect(await kidOf()).toBe("bank-key-1");
      await writeFile(jwkFile, JSON.stringify(second.privateJwk));
      await vi.waitFor(() => expect(edge.logs().some((l) => l.kind === "lifecycle" && l.event === "reloaded")).toBe(true), { timeout: 10_000, interval: 100 });
      // New connections reach both workers in turn: every answer is signed with the new key.
      for (let i = 0; i < 4; i++) {
        const res = await post(edge, await signer.sign({ aud: `${PUBLIC_BASE}${CONSENTS}` }));
        const { protectedHeader } = await compactVerify(res.body.toString("utf8"), second.publicKey, { algorithms: ["PS256"] });
        expect(protectedHeader.kid).toBe("bank-key-2");
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
