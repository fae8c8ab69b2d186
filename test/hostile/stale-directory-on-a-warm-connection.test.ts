import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMockDirectory, type MockDirectory } from "../../src/directory/mock.js";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";
import { keepAliveClient } from "../helpers/tls-probe.js";

/**
 * Once the Directory snapshot is older than `directory.maxStalenessMs`, every request fails closed
 * (503) — also on a connection whose participant verdict the edge remembers for `connectionRecheckMs`. Otherwise a
 * client that keeps its connection open is served on a verdict the edge can no longer vouch for.
 */

const ACCOUNTS = "/open-banking/accounts/v2/accounts";
const MAX_STALENESS_MS = 60_000;

let pki: TestPkiManifest;
let mock: MockDirectory;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
let edge: Awaited<ReturnType<typeof startTestEdge>>;
let mockClosed = false;
let now = Date.now();

beforeAll(async () => {
  pki = await testPki();
  mock = await startMockDirectory({ fixtureDir: pki.directory.participants.replace(/participants\.json$/, "") });
  backend = await startRecordingBackend();
  edge = await startTestEdge({
    pki,
    upstream: backend.url,
    clock: () => new Date(now),
    directory: {
      participantsUrl: mock.participantsUrl,
      keystoreUrl: mock.keystoreUrl,
      maxStalenessMs: MAX_STALENESS_MS,
      // The verdict would be remembered for an hour: staleness must not wait for it.
      connectionRecheckMs: 3_600_000,
    },
  });
});

afterAll(async () => {
  await edge?.close();
  await backend?.close();
  if (!mockClosed) await mock?.close();
});

describe("a warm connection while the Directory is down", () => {
  it("is served while the snapshot is fresh, then answered 503 DIRECTORY_UNAVAILABLE once it is past directory.maxStalenessMs", async () => {
    const client = keepAliveClient(pki, edge.port, clientCredentials(pki, "participant-a"));
    try {
      const first = await client.get(ACCOUNTS);
      expect(first.status).toBe(200);
      expect(backend.received).toHaveLength(1);

      // The Directory goes away; the last snapshot keeps serving up to its limit.
      await mock.close();
      mockClosed = true;
      now += MAX_STALENESS_MS - 5_000;
      const fresh = await client.get(ACCOUNTS);
      expect(fresh.status).toBe(200);
      expect(fresh.localPort).toBe(first.localPort);

      now += 10_000;
      const stale = await client.get(ACCOUNTS);
      expect(stale.localPort).toBe(first.localPort);
      expect(stale.status).toBe(503);
      expect(stale.json<{ errors: { code: string }[] }>().errors[0]!.code).toBe("DIRECTORY_UNAVAILABLE");
      expect(backend.received).toHaveLength(2);
      expect(edge.logs.filter((l) => l.kind === "access").at(-1)).toMatchObject({ status: 503, decision: "rejected", code: "DIRECTORY_UNAVAILABLE", stage: "directory" });
    } finally {
      client.close();
    }
  });
});
