import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest } from "../helpers/client.js";
import { clientCredentials, testPki } from "../helpers/edge.js";
import { spawnEdge, type SpawnedEdge } from "../helpers/serve-process.js";

// `ofb-edge serve` with `workers: 2`: each worker accepts its connections itself from the listening socket the
// primary shares with it, rather than receiving each accepted connection from the primary over IPC (Node's default
// round-robin), which cost the primary CPU and the worker an IPC round trip on every new connection.

let pki: TestPkiManifest;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
let edge: SpawnedEdge;

beforeAll(async () => {
  pki = await testPki();
  backend = await startRecordingBackend();
  edge = await spawnEdge({
    listeners: [{ name: "mtls", host: "127.0.0.1", port: 0, mode: "strict", tls: { cert: pki.server.cert, key: pki.server.key, trustAnchors: [pki.trustAnchors] } }],
    policy: { transportRoots: [pki.ca.root.cert] },
    routes: [{ name: "open-banking", pathPrefix: "/open-banking/", upstream: backend.url }],
    workers: 2,
  });
});

afterAll(async () => {
  await edge?.cleanup();
  await backend?.close();
});

/** The inode of the socket listening on 127.0.0.1:`port`, from /proc/net/tcp (state 0A is LISTEN). */
function listeningInode(port: number): string {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === local && f[3] === "0A") return f[9]!;
  }
  throw new Error(`no listening socket on 127.0.0.1:${port}`);
}

/** The socket inodes a process holds open. */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

describe("ofb-edge serve with workers: 2 accepts in each worker", () => {
  it("every worker holds the listener's listening socket, and connections are served", async () => {
    const inode = listeningInode(edge.port);
    expect(edge.workers).toHaveLength(2);
    for (const pid of edge.workers) expect(socketInodes(pid).has(inode), `worker ${pid} does not hold the listening socket`).toBe(true);
    const credentials = clientCredentials(pki, "participant-a");
    for (let i = 0; i < 4; i++) expect((await httpsRequest({ pki, port: edge.port, credentials })).status).toBe(200);
    expect(backend.received.length).toBe(4);
  });
});
