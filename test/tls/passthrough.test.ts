import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { connect as tcpConnect, createServer as createTcpServer, type AddressInfo, type Server, type Socket } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { connect as tlsConnect, createServer as createTlsServer, type ConnectionOptions } from "node:tls";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createLogger } from "../../src/log/logger.js";
import { createTestCa, issueServerCertificate, type TestCa, type TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { parseClientHello } from "../../src/tls/client-hello.js";
import { createPassthroughMetrics, createPassthroughServer, type PassthroughServer } from "../../src/tls/passthrough.js";
import { passthroughSchema, type PassthroughConfigInput } from "../../src/tls/passthrough-config.js";
import { clientCredentials, testPki } from "../helpers/edge.js";

// Passthrough listeners (docs/architecture.md §TLS listeners, mode passthrough): TLS is routed by SNI to backends that terminate it
// themselves. Every test speaks real TCP/TLS: the client completes its handshake with the backend's own
// certificate (issued under a root only the client and the backends know, so the edge cannot have
// terminated it), and the backend sees the client's certificate.

const ECDSA = { algorithm: "ECDSA", namedCurve: "P-256" } as const;
const CLIENT = "participant-a";

let pki: TestPkiManifest;
let root: TestCa;
const logs: Record<string, unknown>[] = [];
const logger = createLogger({ level: "debug" }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
const metrics = createPassthroughMetrics(new Registry());
const servers: Server[] = [];
const backendFingerprints: Record<string, string> = {};
const held: Socket[] = [];
let closedPort: number;
let holdAt: string;
let [alpha, beta, wild, fallback] = ["", "", "", ""];
let edge: number;
let withDefault: number;
let short: number;

const sockets = new Set<Socket>();

async function listen<S extends Server>(server: S): Promise<number> {
  servers.push(server);
  server.on("connection", (socket: Socket) => sockets.add(socket.once("close", () => sockets.delete(socket))));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

/** A TLS backend with its own certificate for `dnsNames`; it answers who it is and which client certificate it saw. */
async function startTlsBackend(name: string, dnsNames: string[]): Promise<string> {
  const cert = await issueServerCertificate(root, { subject: [{ "2.5.4.3": [dnsNames[0]!] }], key: ECDSA, subjectAltName: { dnsNames } });
  backendFingerprints[name] = new X509Certificate(cert.pem).fingerprint256;
  const server = createTlsServer({ cert: cert.pem, key: cert.keyPem, ca: readFileSync(pki.trustAnchors), requestCert: true, rejectUnauthorized: false }, (socket) => {
    const client = socket.getPeerX509Certificate();
    socket.end(JSON.stringify({ backend: name, servername: socket.servername, clientAuthorized: socket.authorized, clientFingerprint: client?.fingerprint256 ?? null }));
  });
  return `127.0.0.1:${await listen(server)}`;
}

const passthrough: Record<string, PassthroughServer> = {};

async function startPassthrough(name: string, input: PassthroughConfigInput): Promise<number> {
  passthrough[name] = createPassthroughServer({ name, config: passthroughSchema.parse(input), logger, metrics });
  return listen(passthrough[name]);
}

function openConnections(name: string): Promise<number> {
  return new Promise((resolve, reject) => passthrough[name]!.getConnections((err, n) => (err ? reject(err) : resolve(n))));
}

type TlsOutcome = { ok: true; answer: Record<string, unknown>; serverFingerprint: string } | { ok: false; error: string };

/** A real TLS client through `port`: the backend's answer and the certificate it completed the handshake with. */
function tlsThrough(port: number, options: ConnectionOptions): Promise<TlsOutcome> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: "127.0.0.1", port, ca: root.pem, ...clientCredentials(pki, CLIENT), ...options });
    const chunks: Buffer[] = [];
    let serverFingerprint: string | null = null;
    let error = "closed";
    socket.once("secureConnect", () => (serverFingerprint = socket.getPeerX509Certificate()?.fingerprint256 ?? ""));
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", (err: NodeJS.ErrnoException) => (error = err.code ?? err.message));
    socket.once("close", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      resolve(serverFingerprint !== null && text ? { ok: true, answer: JSON.parse(text) as Record<string, unknown>, serverFingerprint } : { ok: false, error });
    });
  });
}

/** A plain TCP client that writes `bytes` (and optionally its FIN), then reads until the connection closes. */
function tcpThrough(port: number, bytes: Uint8Array | string, options: { end?: boolean } = {}): Promise<{ received: string; ended: boolean; ms: number; socket: Socket }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: "127.0.0.1", port, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    let ended = false;
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.once("end", () => {
      ended = true;
      socket.end();
    });
    socket.on("error", () => undefined);
    socket.once("close", () => resolve({ received: Buffer.concat(chunks).toString("latin1"), ended, ms: performance.now() - started, socket }));
    if (bytes.length > 0) socket.write(bytes);
    if (options.end) socket.end();
  });
}

/** The ClientHello a real `node:tls` client sends for `servername`, captured from a plain TCP socket. */
async function captureClientHello(servername: string): Promise<Buffer> {
  const server = createTcpServer();
  const captured = new Promise<Buffer>((resolve) =>
    server.once("connection", (socket: Socket) => {
      let bytes = Buffer.alloc(0);
      socket.on("data", (c: Buffer) => {
        bytes = Buffer.concat([bytes, c]);
        if (parseClientHello(bytes).status === "incomplete") return;
        socket.destroy();
        resolve(bytes);
      });
    }),
  );
  const client = tlsConnect({ host: "127.0.0.1", port: await listen(server), servername });
  client.on("error", () => undefined);
  return captured.finally(() => client.destroy());
}

/** A relay that hands the client's first flight (its ClientHello) to `port` one byte per TCP segment. */
async function startDribbleRelay(port: number): Promise<{ port: number; writes: () => number }> {
  let writes = 0;
  const relay = createTcpServer((inbound) => {
    const outbound = tcpConnect({ host: "127.0.0.1", port, noDelay: true });
    const fail = () => (inbound.destroy(), outbound.destroy());
    inbound.on("error", fail);
    outbound.on("error", fail);
    inbound.once("data", async (first: Buffer) => {
      inbound.pause();
      for (const byte of first) {
        await new Promise((resolve) => outbound.write(Uint8Array.of(byte), resolve));
        writes++;
        await delay(1);
      }
      inbound.pipe(outbound);
      outbound.pipe(inbound);
    });
  });
  return { port: await listen(relay), writes: () => writes };
}

/** A `kind: "passthrough"` line matching `fields` appears, among the lines from index `from` on. */
async function expectLog(fields: Record<string, unknown>, from = 0) {
  await vi.waitFor(() => expect(logs.slice(from)).toContainEqual(expect.objectContaining({ kind: "passthrough", ...fields })));
}

async function count(listener: string, outcome: string): Promise<number> {
  return (await metrics.connections.get()).values.find((v) => v.labels.listener === listener && v.labels.outcome === outcome)?.value ?? 0;
}

beforeAll(async () => {
  pki = await testPki();
  root = await createTestCa({ subject: [{ "2.5.4.3": ["ofb-edge passthrough test backends"] }], key: ECDSA });
  [alpha, beta, wild, fallback] = await Promise.all([
    startTlsBackend("alpha", ["alpha.bank.test"]),
    startTlsBackend("beta", ["beta.bank.test"]),
    startTlsBackend("wild", ["*.wild.bank.test"]),
    startTlsBackend("fallback", ["fallback.bank.test"]),
  ]);
  // Raw TCP backends: passthrough does not care what follows the ClientHello.
  const echo = createTcpServer({ allowHalfOpen: true }, (socket) => {
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.once("end", () => {
      const all = Buffer.concat(chunks);
      socket.end(`received ${all.length} bytes ending ${all.subarray(-16).toString("latin1")}`);
    });
  });
  const hold = createTcpServer((socket) => {
    held.push(socket);
    socket.on("error", () => undefined).resume();
  });
  const refusing = createTcpServer();
  closedPort = await listen(refusing);
  await new Promise((resolve) => refusing.close(resolve));
  const echoAt = `127.0.0.1:${await listen(echo)}`;
  holdAt = `127.0.0.1:${await listen(hold)}`;
  edge = await startPassthrough("edge", {
    routes: [
      { sni: "alpha.bank.test", upstream: alpha },
      { sni: "beta.bank.test", upstream: beta },
      { sni: "*.wild.bank.test", upstream: wild },
      { sni: "exact.wild.bank.test", upstream: beta },
      { sni: "refused.bank.test", upstream: `127.0.0.1:${closedPort}` },
      { sni: "echo.bank.test", upstream: echoAt },
      { sni: "hold.bank.test", upstream: holdAt },
    ],
  });
  withDefault = await startPassthrough("with-default", { routes: [{ sni: "alpha.bank.test", upstream: alpha }], default: fallback });
  short = await startPassthrough("short", { routes: [{ sni: "hold.bank.test", upstream: holdAt }], clientHelloTimeoutMs: 250, idleTimeoutMs: 400 });
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

describe("routing by SNI without terminating TLS", () => {
  it.each([
    ["alpha.bank.test", "alpha"],
    ["beta.bank.test", "beta"],
  ])("%s reaches its backend, which completes the handshake with its own certificate and sees the client's", async (servername, backend) => {
    const outcome = await tlsThrough(edge, { servername });
    expect(outcome).toEqual({
      ok: true,
      serverFingerprint: backendFingerprints[backend],
      answer: { backend, servername, clientAuthorized: true, clientFingerprint: new X509Certificate(readFileSync(pki.clients[CLIENT]!.cert)).fingerprint256 },
    });
    await expectLog({ listener: "edge", outcome: "forwarded", sni: servername, route: servername, bytesIn: expect.any(Number) as number });
  });

  it("a wildcard takes one leftmost label; an exact name beside it wins; case does not matter", async () => {
    expect(await tlsThrough(edge, { servername: "tenant-1.wild.bank.test" })).toMatchObject({ ok: true, answer: { backend: "wild" }, serverFingerprint: backendFingerprints.wild });
    expect(await tlsThrough(edge, { servername: "Tenant-2.WILD.bank.test", checkServerIdentity: () => undefined })).toMatchObject({ ok: true, answer: { backend: "wild" } });
    expect(await tlsThrough(edge, { servername: "exact.wild.bank.test", checkServerIdentity: () => undefined })).toMatchObject({ ok: true, answer: { backend: "beta" } });
    expect(await tlsThrough(edge, { servername: "a.b.wild.bank.test" })).toMatchObject({ ok: false });
    await expectLog({ listener: "edge", outcome: "no-route", sni: "a.b.wild.bank.test" });
  });

  it("a ClientHello arriving one byte per segment is still routed", async () => {
    const relay = await startDribbleRelay(edge);
    expect(await tlsThrough(relay.port, { servername: "beta.bank.test" })).toMatchObject({ ok: true, answer: { backend: "beta" }, serverFingerprint: backendFingerprints.beta });
    expect(relay.writes()).toBeGreaterThan(100);
  });

  it("a real node:tls ClientHello parses to its SNI", async () => {
    expect(parseClientHello(await captureClientHello("Alpha.Bank.Test"))).toEqual({ status: "complete", sni: "alpha.bank.test" });
  });
});

describe("no route: the connection is closed (or goes to the default)", () => {
  it("an unknown SNI, or none, without a default → closed before any byte from a backend; logged with the SNI", async () => {
    const before = await count("edge", "no-route");
    expect(await tlsThrough(edge, { servername: "unknown.bank.test" })).toEqual({ ok: false, error: "ECONNRESET" });
    await expectLog({ listener: "edge", outcome: "no-route", sni: "unknown.bank.test" });
    expect(logs.filter((l) => l.outcome === "no-route" && "upstream" in l)).toEqual([]);
    expect(await tlsThrough(edge, {})).toMatchObject({ ok: false });
    await expectLog({ listener: "edge", outcome: "no-route", sni: null });
    await vi.waitFor(async () => expect(await count("edge", "no-route")).toBe(before + 2));
  });

  it("with a default, an unknown SNI and no SNI reach the default backend", async () => {
    const anyName = { checkServerIdentity: () => undefined };
    expect(await tlsThrough(withDefault, { servername: "unknown.bank.test", ...anyName })).toMatchObject({ ok: true, answer: { backend: "fallback", servername: "unknown.bank.test" }, serverFingerprint: backendFingerprints.fallback });
    expect(await tlsThrough(withDefault, anyName)).toMatchObject({ ok: true, answer: { backend: "fallback", servername: false } });
    expect(await tlsThrough(withDefault, { servername: "alpha.bank.test" })).toMatchObject({ ok: true, answer: { backend: "alpha" } });
    await expectLog({ listener: "with-default", outcome: "forwarded", sni: null, route: "default" });
  });
});

describe("what is not a routable ClientHello is closed", () => {
  it("plain HTTP → closed without an answer; the reason logged and counted", async () => {
    const before = await count("edge", "client-hello-invalid");
    const { received } = await tcpThrough(edge, "GET / HTTP/1.1\r\nHost: alpha.bank.test\r\n\r\n");
    expect(received).toBe("");
    await expectLog({ listener: "edge", outcome: "client-hello-invalid", code: "CLIENT_HELLO_NOT_TLS" });
    expect(await count("edge", "client-hello-invalid")).toBe(before + 1);
  });

  it("an SNI that is not a host name → closed", async () => {
    const hello = await captureClientHello("alpha.bank.test");
    const at = hello.indexOf("alpha.bank.test");
    hello.write("_", at + 5, "latin1");
    expect((await tcpThrough(edge, hello)).received).toBe("");
    await expectLog({ listener: "edge", outcome: "client-hello-invalid", code: "CLIENT_HELLO_SNI_INVALID", sni: null });
  });

  it("a client that sends nothing is closed after clientHelloTimeoutMs", async () => {
    const { ms, received } = await tcpThrough(short, "");
    expect(received).toBe("");
    expect(ms).toBeGreaterThanOrEqual(240);
    expect(ms).toBeLessThan(2_000);
    await expectLog({ listener: "short", outcome: "client-hello-timeout", sni: null, bytesIn: 0 });
  });

  it("a client that sends half a ClientHello and its FIN is closed at once", async () => {
    const hello = await captureClientHello("alpha.bank.test");
    expect((await tcpThrough(edge, hello.subarray(0, 40), { end: true })).received).toBe("");
    await expectLog({ listener: "edge", outcome: "client-hello-incomplete", bytesIn: 40 });
  });
});

describe("the tunnel", () => {
  it("a backend refusing the connection → the client's connection is closed; logged as unreachable", async () => {
    expect(await tlsThrough(edge, { servername: "refused.bank.test" })).toMatchObject({ ok: false });
    await expectLog({ listener: "edge", outcome: "upstream-unreachable", code: "ECONNREFUSED", sni: "refused.bank.test", upstream: `127.0.0.1:${closedPort}` });
  });

  it("replays the ClientHello bytes once, relays what follows, and carries a half-close both ways", async () => {
    const hello = await captureClientHello("echo.bank.test");
    const { received, ended } = await tcpThrough(edge, Buffer.concat([hello, Buffer.from("ping-after-hello")]), { end: true });
    expect(received).toBe(`received ${hello.length + 16} bytes ending ping-after-hello`);
    expect(ended).toBe(true);
    await expectLog({ listener: "edge", outcome: "forwarded", sni: "echo.bank.test", bytesIn: hello.length + 16, bytesOut: received.length });
    expect(JSON.stringify(logs)).not.toContain("ping-after-hello");
  });

  it.each([
    ["client", "FIN", "forwarded"],
    ["client", "RST", "client-reset"],
    ["backend", "FIN", "forwarded"],
    ["backend", "RST", "upstream-reset"],
  ] as const)("when the %s leaves (%s), the other side is closed too and nothing is left open", async (leaver, how, outcome) => {
    const hello = await captureClientHello("hold.bank.test");
    const [heldBefore, mark] = [held.length, logs.length];
    const client = tcpConnect({ host: "127.0.0.1", port: edge });
    client.on("error", () => undefined);
    client.write(hello);
    await vi.waitFor(() => expect(held.length).toBe(heldBefore + 1));
    const backend = held[heldBefore]!;
    const [gone, survivor] = leaver === "client" ? [client, backend] : [backend, client];
    const survivorClosed = new Promise((resolve) => survivor.once("close", resolve));
    if (how === "RST") gone.resetAndDestroy();
    else gone.destroy();
    await survivorClosed;
    await expectLog({ listener: "edge", sni: "hold.bank.test", outcome }, mark);
    await vi.waitFor(async () => expect(await openConnections("edge")).toBe(0));
  });

  it("a tunnel idle for idleTimeoutMs is closed on both sides", async () => {
    const hello = await captureClientHello("hold.bank.test");
    const heldBefore = held.length;
    const { ms } = await tcpThrough(short, hello);
    expect(ms).toBeGreaterThanOrEqual(390);
    expect(ms).toBeLessThan(3_000);
    await vi.waitFor(() => expect(held[heldBefore]?.destroyed).toBe(true));
    await expectLog({ listener: "short", outcome: "idle-timeout", sni: "hold.bank.test" });
    expect(await openConnections("short")).toBe(0);
  });

  it("on shutdown, closeIdleConnections ends connections still routing and spares tunnels; closeAllConnections ends the tunnels", async () => {
    const port = await startPassthrough("draining", { routes: [{ sni: "hold.bank.test", upstream: holdAt }] });
    const server = passthrough.draining!;
    const heldBefore = held.length;
    const tunnel = tcpThrough(port, await captureClientHello("hold.bank.test"));
    await vi.waitFor(() => expect(held.length).toBe(heldBefore + 1));
    const routing = tcpThrough(port, "\x16\x03\x01");
    await vi.waitFor(async () => expect(await openConnections("draining")).toBe(2));
    server.closeIdleConnections();
    await routing;
    await expectLog({ listener: "draining", outcome: "shutdown", sni: null });
    expect(held[heldBefore]!.destroyed).toBe(false);
    server.closeAllConnections();
    await tunnel;
    await vi.waitFor(() => expect(held[heldBefore]!.destroyed).toBe(true));
    await expectLog({ listener: "draining", outcome: "shutdown", sni: "hold.bank.test" });
  });

  it("reconfigure (hot reload): new connections take the new routes; an open tunnel keeps its backend", async () => {
    const port = await startPassthrough("reloading", { routes: [{ sni: "alpha.bank.test", upstream: alpha }, { sni: "hold.bank.test", upstream: holdAt }] });
    const heldBefore = held.length;
    const tunnel = tcpConnect({ host: "127.0.0.1", port }).on("error", () => undefined);
    tunnel.write(await captureClientHello("hold.bank.test"));
    await vi.waitFor(() => expect(held.length).toBe(heldBefore + 1));
    passthrough.reloading!.reconfigure(passthroughSchema.parse({ routes: [{ sni: "alpha.bank.test", upstream: beta }] }));
    expect(await tlsThrough(port, { servername: "alpha.bank.test", checkServerIdentity: () => undefined })).toMatchObject({ ok: true, answer: { backend: "beta" } });
    expect(await tlsThrough(port, { servername: "hold.bank.test" })).toMatchObject({ ok: false });
    expect(held[heldBefore]!.destroyed).toBe(false);
    tunnel.destroy();
  });
});
