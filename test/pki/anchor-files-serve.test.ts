import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest } from "../helpers/client.js";
import { testPki } from "../helpers/edge.js";
import { spawnEdge, type SpawnedEdge } from "../helpers/serve-process.js";
import { rawRequest, tlsHandshake } from "../helpers/tls-probe.js";

// Issue 13 items 2 and 3 end to end: `ofb-edge serve` (spawned, as an operator runs it) with each trust-anchor
// file of the test PKI — the root only; the root and its ACs (what `ofb-edge trust fetch` writes); every root
// (what an operator who loads every ICP-Brasil root gets) — and the transport root pinned by file. One process
// per file, with a permissive listener (refusals answered in HTTP with their code) and a strict one (refusals
// end the connection and are logged); many clients against each.

const ACCOUNTS = "/open-banking/accounts/v2/accounts";
type FileId = keyof TestPkiManifest["anchorFiles"];
const FILES: readonly FileId[] = ["root", "bundle", "allRoots"];

interface Served {
  readonly edge: SpawnedEdge;
  readonly permissive: number;
  readonly strict: number;
}

let pki: TestPkiManifest;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
const served = new Map<FileId, Served>();

async function serve(file: FileId): Promise<Served> {
  const tls = { cert: pki.server.cert, key: pki.server.key, trustAnchors: [pki.anchorFiles[file]] };
  const edge = await spawnEdge({
    listeners: [
      { name: "permissive", host: "127.0.0.1", port: 0, mode: "permissive", tls },
      { name: "strict", host: "127.0.0.1", port: 0, mode: "strict", tls },
    ],
    routes: [{ name: "open-banking", pathPrefix: "/open-banking/", upstream: backend.url }],
    policy: { transportRoots: [pki.ca.root.cert] },
    revocation: { mode: "off" },
    workers: 1,
  });
  return { edge, permissive: edge.ports.get("permissive")!, strict: edge.ports.get("strict")! };
}

beforeAll(async () => {
  pki = await testPki();
  backend = await startRecordingBackend();
  const started = await Promise.all(FILES.map((f) => serve(f)));
  FILES.forEach((f, i) => served.set(f, started[i]!));
}, 60_000);

afterAll(async () => {
  await Promise.all(
    [...served.values()].map(async ({ edge }) => {
      await edge.stop();
      await edge.cleanup();
    }),
  );
  await backend?.close();
});

const credentials = (client: string, chain = true) => ({ cert: readFileSync(chain ? pki.clients[client]!.chain : pki.clients[client]!.cert), key: readFileSync(pki.clients[client]!.key) });

/** One request on the permissive listener: 200 and forwarded, or 401 with `code` and nothing forwarded. */
async function expectOutcome(file: FileId, client: string, expected: string, options: { chain?: boolean } = {}) {
  const before = backend.received.length;
  const res = await httpsRequest({ pki, port: served.get(file)!.permissive, credentials: credentials(client, options.chain) });
  if (expected === "accept") {
    expect(res.status, `${client} with ${file}`).toBe(200);
    expect(backend.received.length).toBe(before + 1);
    return;
  }
  expect({ status: res.status, code: res.json<{ errors: { code: string }[] }>().errors[0]!.code }, `${client} with ${file}`).toEqual({ status: 401, code: expected });
  expect(backend.received.length).toBe(before);
}

describe.each(FILES)("serve with the %s trust-anchor file (permissive listener)", (file) => {
  it("participant-a sending leaf + AC → 200, forwarded", async () => {
    await expectOutcome(file, "participant-a", "accept");
  });

  it("participant-a sending its leaf alone → 401 CERT_CHAIN_INCOMPLETE, nothing forwarded", async () => {
    await expectOutcome(file, "participant-a", "CERT_CHAIN_INCOMPLETE", { chain: false });
  });

  it("the client whose issuer field is PrintableString under a UTF8String AC → 200", async () => {
    await expectOutcome(file, "participant-printable-issuer", "accept");
  });

  it.each(["e-cnpj", "participant-retired-ac", "other-ca"])("%s → the catalogue's outcome for this file", async (client) => {
    await expectOutcome(file, client, pki.clients[client]!.expectByAnchorFile[file]);
  });
});

describe("the outcomes the issue names, per file", () => {
  it("v5 e-CNPJ: CERT_HIERARCHY_NOT_TRANSPORT with every root, CERT_UNTRUSTED when its root is not loaded; an AC left out of the bundle: CERT_ISSUER_NOT_ALLOWED", () => {
    expect(Object.fromEntries(FILES.map((f) => [f, pki.clients["e-cnpj"]!.expectByAnchorFile[f]]))).toEqual({ root: "CERT_UNTRUSTED", bundle: "CERT_UNTRUSTED", allRoots: "CERT_HIERARCHY_NOT_TRANSPORT" });
    expect(pki.clients["participant-retired-ac"]!.expectByAnchorFile.bundle).toBe("CERT_ISSUER_NOT_ALLOWED");
  });
});

describe("strict listener: the refusal ends the connection, with the reason logged", () => {
  /** Handshake then one request: the strict listener answers no HTTP status; returns once the edge logged `code`. */
  async function expectClosed(file: FileId, client: string, chain: boolean, log: Record<string, unknown>) {
    const before = backend.received.length;
    const { strict, edge } = served.get(file)!;
    const outcome = await tlsHandshake(pki, strict, credentials(client, chain));
    const status = outcome.ok ? (await rawRequest(outcome.socket, ACCOUNTS)).status : 0;
    expect(status).toBe(0);
    await vi.waitFor(() => expect(edge.logs()).toContainEqual(expect.objectContaining({ kind: "tls", listener: "strict", ...log })));
    expect(backend.received.length).toBe(before);
  }

  it("with the bundle, participant-a's leaf alone completes the handshake (OpenSSL has its AC) and is closed: CERT_CHAIN_INCOMPLETE, 'sent only its leaf'", async () => {
    await expectClosed("bundle", "participant-a", false, { event: "client-certificate-rejected", code: "CERT_CHAIN_INCOMPLETE", rule: "intermediate-required", detail: expect.stringMatching(/^the client sent only its leaf/) });
  });

  it("with every root, the v5 e-CNPJ is closed: CERT_HIERARCHY_NOT_TRANSPORT", async () => {
    await expectClosed("allRoots", "e-cnpj", true, { event: "client-certificate-rejected", code: "CERT_HIERARCHY_NOT_TRANSPORT", rule: "transport-hierarchy" });
  });

  it("with the bundle, the v5 e-CNPJ fails in the handshake itself: CERT_UNTRUSTED", async () => {
    await expectClosed("bundle", "e-cnpj", true, { event: "handshake-failed", code: "CERT_UNTRUSTED" });
  });

  it("and still serves participant-a sending leaf + AC", async () => {
    const res = await httpsRequest({ pki, port: served.get("bundle")!.strict, credentials: credentials("participant-a") });
    expect(res.status).toBe(200);
  });
});
