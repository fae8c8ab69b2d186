import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { connect, createServer } from "node:tls";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { startTestEdge, testPki } from "../helpers/edge.js";

// A passthrough listener started by startEdge beside a terminating one: no tls section, SNI-routed,
// listed in `edge.passthrough`, counted on the edge's registry, closed by edge.close().

let pki: TestPkiManifest;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
let edge: Awaited<ReturnType<typeof startTestEdge>>;
const direct = createServer({}, (s) => s.end("direct backend"));

beforeAll(async () => {
  pki = await testPki();
  backend = await startRecordingBackend();
  direct.setSecureContext({ cert: readFileSync(pki.server.cert), key: readFileSync(pki.server.key) });
  await new Promise<void>((r) => direct.listen(0, "127.0.0.1", r));
  const tls = { cert: pki.server.cert, key: pki.server.key, trustAnchors: [pki.trustAnchors] };
  edge = await startTestEdge({
    pki,
    upstream: backend.url,
    listeners: [
      { name: "mtls", host: "127.0.0.1", port: 0, mode: "permissive", tls },
      { name: "tcp", host: "127.0.0.1", port: 0, mode: "passthrough", passthrough: { routes: [{ sni: "localhost", upstream: `127.0.0.1:${(direct.address() as AddressInfo).port}` }] } },
    ],
  });
});

afterAll(async () => {
  await edge?.close();
  await backend?.close();
  await new Promise((r) => direct.close(r));
});

it("a passthrough listener needs no tls section and routes by SNI to a backend that terminates TLS", async () => {
  expect(edge.edge.passthrough.map((p) => p.name)).toEqual(["tcp"]);
  const socket = connect({ host: "127.0.0.1", port: edge.edge.passthrough[0]!.port, servername: "localhost", ca: readFileSync(pki.trustAnchors) });
  const chunks: Buffer[] = [];
  socket.on("data", (c: Buffer) => chunks.push(c));
  await new Promise((r) => socket.once("close", r));
  expect(Buffer.concat(chunks).toString()).toBe("direct backend");
  await vi.waitFor(async () => expect(await edge.metrics.registry.getSingleMetricAsString("ofb_edge_passthrough_connections_total")).toMatch(/listener="tcp",outcome="forwarded"} 1/));
  expect(edge.logs).toContainEqual(expect.objectContaining({ kind: "passthrough", listener: "tcp", outcome: "forwarded", sni: "localhost" }));
});

it("a tls section, http, routes or trustedProxy on a passthrough listener is an error that names the key", () => {
  const base = { name: "tcp", port: 1, mode: "passthrough", passthrough: { routes: [{ sni: "a.example", upstream: "b:1" }] } };
  const parse = (l: object) => () => parseConfig({ listeners: [l], routes: [{ name: "r", pathPrefix: "/", upstream: "http://x" }] } as never, { file: "t", baseDir: "/" });
  expect(parse({ ...base, tls: { cert: "c", key: "k", trustAnchors: ["a"] } })).toThrow(/tls/);
  expect(parse({ name: "x", port: 1, mode: "strict" })).toThrow(/tls/);
  expect(parse({ ...base, passthrough: undefined })).toThrow(/passthrough/);
});
