import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ConfigError } from "../../src/errors.js";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { issues } from "../helpers/config.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";
import { rawRequest, tlsHandshake } from "../helpers/tls-probe.js";

// RFC 7301: the TLS listeners offer h2 and http/1.1 (listeners[].http.protocols, in the edge's order of
// preference); a client that offers no ALPN speaks HTTP/1.1; `["http/1.1"]` turns HTTP/2 off, and a client that
// offers only h2 is then refused in the handshake (no_application_protocol, RFC 7301 §3.2).

const API = "/open-banking/accounts/v2/accounts";

let pki: TestPkiManifest;
let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
let both: Awaited<ReturnType<typeof startTestEdge>>;
let http1Only: Awaited<ReturnType<typeof startTestEdge>>;

beforeAll(async () => {
  pki = await testPki();
  backend = await startRecordingBackend();
  const tls = { cert: pki.server.cert, key: pki.server.key, trustAnchors: [pki.trustAnchors] };
  both = await startTestEdge({ pki, upstream: backend.url });
  http1Only = await startTestEdge({ pki, upstream: backend.url, listeners: [{ name: "mtls", host: "127.0.0.1", port: 0, mode: "permissive", tls, http: { protocols: ["http/1.1"] } }] });
});

afterAll(async () => {
  await both?.close();
  await http1Only?.close();
  await backend?.close();
});

async function negotiated(port: number, ALPNProtocols: string[] | undefined): Promise<string | false | null | { error: string | undefined }> {
  const outcome = await tlsHandshake(pki, port, { ...clientCredentials(pki, "participant-a"), ...(ALPNProtocols ? { ALPNProtocols } : {}) });
  if (!outcome.ok) return { error: outcome.error.code };
  const protocol = outcome.socket.alpnProtocol;
  outcome.socket.destroy();
  return protocol;
}

describe("default: h2 and http/1.1", () => {
  it.each([
    [["h2", "http/1.1"], "h2"],
    [["http/1.1", "h2"], "h2"],
    [["http/1.1"], "http/1.1"],
    [["h2"], "h2"],
  ])("a client offering %j gets %s", async (offered, expected) => {
    expect(await negotiated(both.port, offered)).toBe(expected);
  });

  it("a client offering no ALPN gets HTTP/1.1, served by the HTTP/1.1 layer", async () => {
    const outcome = await tlsHandshake(pki, both.port, clientCredentials(pki, "participant-a"));
    if (!outcome.ok) throw outcome.error;
    expect(outcome.socket.alpnProtocol).toBe(false);
    expect((await rawRequest(outcome.socket, API)).status).toBe(200);
    expect(both.logs.filter((l) => l.kind === "access").at(-1)).toMatchObject({ protocol: "http1.1", status: 200 });
  });
});

describe('protocols: ["http/1.1"]', () => {
  it("offers no h2: a client offering both gets http/1.1", async () => {
    expect(await negotiated(http1Only.port, ["h2", "http/1.1"])).toBe("http/1.1");
  });

  it("a client offering only h2 is refused in the handshake (no_application_protocol); logged and counted", async () => {
    expect(await negotiated(http1Only.port, ["h2"])).toEqual({ error: "ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL" });
    await vi.waitFor(() => expect(http1Only.logs).toContainEqual(expect.objectContaining({ kind: "tls", event: "handshake-failed", code: "ERR_SSL_NO_APPLICATION_PROTOCOL" })));
    const failures = (await http1Only.metrics.handshakeFailures.get()).values.find((v) => v.labels.reason === "ERR_SSL_NO_APPLICATION_PROTOCOL");
    expect(failures?.value).toBe(1);
  });
});

describe("reload", () => {
  it("a change of protocols or HTTP/2 limits is refused naming listeners (it takes effect on restart); the listener keeps offering h2", async () => {
    const l = both.config.listeners[0]!;
    if (l.mode === "passthrough") throw new Error("not a TLS listener");
    for (const http of [{ ...l.http, protocols: ["http/1.1" as const] }, { ...l.http, http2: { ...l.http.http2, maxConcurrentStreams: 10 } }]) {
      const err = await both.edge.reload({ ...both.config, listeners: [{ ...l, http }] }).catch((e: unknown) => e);
      expect((err as ConfigError).issues).toEqual([{ path: "listeners", message: expect.stringContaining("restart") }]);
    }
    expect(await negotiated(both.port, ["h2", "http/1.1"])).toBe("h2");
  });
});

describe("configuration", () => {
  const listener = (http: Record<string, unknown>) => ({
    listeners: [{ name: "edge", port: 8443, mode: "permissive", tls: { cert: "c.pem", key: "k.pem", trustAnchors: ["a.pem"] }, http }],
    routes: [{ name: "r", pathPrefix: "/", upstream: "http://127.0.0.1:8080" }],
  });

  it.each([
    [{ protocols: [] }, "listeners[0].http.protocols"],
    [{ protocols: ["h3"] }, "listeners[0].http.protocols[0]"],
    [{ protocols: ["h2", "h2"] }, "listeners[0].http.protocols"],
    [{ http2: { maxConcurrentStreams: 0 } }, "listeners[0].http.http2.maxConcurrentStreams"],
    [{ http2: { maxSessionMemoryMb: 2048 } }, "listeners[0].http.http2.maxSessionMemoryMb"],
    [{ http2: { maxStreams: 10 } }, "listeners[0].http.http2"],
  ])("%j is refused, naming %s", (http, path) => {
    expect(issues(listener(http)).map((i) => i.path)).toContain(path);
  });
});
