import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { createKeystore, KeystoreUnavailableError, type KeystoreOptions } from "../../src/directory/keystore.js";
import type { DirectoryStore } from "../../src/directory/types.js";
import { loadTestPki, type TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { testDispatcher } from "../helpers/outbound.js";

const dispatcher = testDispatcher();

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const MAX_BYTES = 16 * 1024;

function listen(server: Server): Promise<number> {
  return new Promise((done) => server.listen(0, "127.0.0.1", () => done((server.address() as AddressInfo).port)));
}

/** The DER of a client's leaf as the base64 `x5c` member (RFC 7517 §4.7). */
async function x5c(pki: TestPkiManifest, name: string): Promise<string> {
  const pem = await readFile(pki.clients[name]!.cert, "utf8");
  return pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s/g, "");
}

describe("keystore responses: what is trusted, and every failure fails closed without being cached", () => {
  let pki: TestPkiManifest;
  let server: Server;
  let port: number;
  let handler: Handler;
  const requests: string[] = [];
  let writes: string[];
  let org: string;
  let ss: string;
  let thumbprint: string;
  let healthy: Handler;

  const serveJson = (active: unknown): Handler => (req, res) => {
    if (req.url?.includes("/inactive/")) return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": "application/json" }).end(typeof active === "string" ? active : JSON.stringify(active));
  };
  const keystore = (overrides: Partial<KeystoreOptions> = {}) => {
    const cache: Pick<DirectoryStore, "cacheGet" | "cacheSet"> = {
      cacheGet: async () => null,
      cacheSet: async (key) => void writes.push(key),
    };
    return createKeystore({ baseUrl: `http://127.0.0.1:${port}/ks/`, cache, ttlMs: 60_000, negativeTtlMs: 5_000, timeoutMs: 2_000, maxBytes: MAX_BYTES, dispatcher, ...overrides });
  };

  beforeAll(async () => {
    pki = await loadTestPki(inject("pkiDir"));
    ({ organisationId: org, softwareStatementId: ss, thumbprint } = pki.clients["participant-a"] as { organisationId: string; softwareStatementId: string; thumbprint: string });
    const activeJwks = await readFile(join(pki.directory.keystore, org, ss, "transport.jwks"), "utf8");
    healthy = serveJson(activeJwks);
    server = createServer((req, res) => {
      requests.push(req.url ?? "");
      handler(req, res);
    });
    port = await listen(server);
  });
  afterAll(() => {
    server.closeAllConnections();
    return new Promise<void>((done) => server.close(() => done()));
  });
  beforeEach(() => {
    requests.length = 0;
    writes = [];
    handler = healthy;
  });

  it("an active JWKS with no inactive/ JWKS (404) answers active and is cached for ttlMs", async () => {
    expect(await keystore().keyStatus(org, ss, thumbprint)).toBe("active");
    expect(requests.sort()).toEqual([`/ks/${org}/${ss}/inactive/transport.jwks`, `/ks/${org}/${ss}/transport.jwks`]);
    expect(writes.filter((k) => k.startsWith("keystore:"))).toEqual([`keystore:${org}:${ss}`]);
  });

  // Our reading: kid == thumbprint holds for the published example only; the edge computes it.
  it("kid and x5t#S256 members naming the certificate's thumbprint do not register it: x5c[0] decides", async () => {
    const other = await x5c(pki, "participant-b");
    handler = serveJson({ keys: [{ kty: "RSA", kid: thumbprint, "x5t#S256": thumbprint, "x5t#256": thumbprint, x5c: [other] }] });
    expect(await keystore().keyStatus(org, ss, thumbprint)).toBe("unregistered");
  });

  it("a certificate only in x5c[1..] (the chain) is not a registered key", async () => {
    handler = serveJson({ keys: [{ kty: "RSA", x5c: [await x5c(pki, "participant-b"), await x5c(pki, "participant-a")] }] });
    expect(await keystore().keyStatus(org, ss, thumbprint)).toBe("unregistered");
  });

  it("keys without a usable x5c[0] are skipped and the usable ones still count", async () => {
    const unusable = [{ kty: "RSA", kid: thumbprint }, { x5c: [] }, { x5c: [42] }, { x5c: ["not base64!"] }, { x5c: "MIIB" }, "key", null];
    handler = serveJson({ keys: [...unusable, { kty: "RSA", x5c: [await x5c(pki, "participant-a")] }] });
    expect(await keystore().keyStatus(org, ss, thumbprint)).toBe("active");
  });

  it("a cache that cannot be read or written does not stop the check (the keystore is asked)", async () => {
    const broken: Pick<DirectoryStore, "cacheGet" | "cacheSet"> = {
      cacheGet: () => Promise.reject(new Error("store down")),
      cacheSet: () => Promise.reject(new Error("store down")),
    };
    expect(await keystore({ cache: broken }).keyStatus(org, ss, thumbprint)).toBe("active");
  });

  const stall: Handler = () => undefined;
  it.each<[string, Handler, Partial<KeystoreOptions>?]>([
    ["HTTP 503", (_req, res) => void res.writeHead(503).end("busy")],
    ["HTTP 403 (not a 404)", (_req, res) => void res.writeHead(403).end()],
    ["a redirect (not followed)", (_req, res) => void res.writeHead(302, { location: "http://169.254.169.254/" }).end()],
    ["an HTML page with status 200", (_req, res) => void res.writeHead(200, { "content-type": "text/html" }).end("<html>maintenance</html>")],
    ["JSON that is not a JWK Set", (_req, res) => void res.writeHead(200, { "content-type": "application/json" }).end('{"keys":"none"}')],
    ["a JSON array", (_req, res) => void res.writeHead(200, { "content-type": "application/json" }).end("[]")],
    ["a declared Content-Length over maxBytes", (_req, res) => void res.writeHead(200, { "content-length": MAX_BYTES + 1 }).end("x".repeat(MAX_BYTES + 1))],
    ["a chunked body growing past maxBytes", (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      for (let i = 0; i < 20; i++) res.write("x".repeat(1024));
      res.end();
    }],
    ["no response headers within timeoutMs", stall, { timeoutMs: 300 }],
    ["a body that stalls within timeoutMs", (_req, res) => void res.writeHead(200, { "content-type": "application/json" }).write('{"keys":['), { timeoutMs: 300 }],
    ["a connection reset", (req) => void req.socket.destroy()],
  ])("%s: KeystoreUnavailableError naming the path, nothing cached, the next call asks again", async (_case, failing, overrides = {}) => {
    handler = failing;
    const ks = keystore(overrides);
    const started = Date.now();
    const err = await ks.keyStatus(org, ss, thumbprint).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(KeystoreUnavailableError);
    expect((err as KeystoreUnavailableError).code).toBe("DIRECTORY_KEYSTORE_UNAVAILABLE");
    expect((err as Error).message).toMatch(new RegExp(`^keystore unavailable: GET /ks/${org}/${ss}/(inactive/)?transport\\.jwks: `));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(writes).toEqual([]);

    handler = healthy;
    requests.length = 0;
    expect(await ks.keyStatus(org, ss, thumbprint)).toBe("active");
    expect(requests).toHaveLength(2);
  });

  it("connection refused: KeystoreUnavailableError, nothing cached", async () => {
    const closed = createServer();
    const closedPort = await listen(closed);
    await new Promise<void>((done) => closed.close(() => done()));
    const ks = keystore({ baseUrl: `http://127.0.0.1:${closedPort}/ks` });
    await expect(ks.keyStatus(org, ss, thumbprint)).rejects.toThrow(/^keystore unavailable: GET \/ks\/.*transport\.jwks: ECONNREFUSED/);
    expect(writes).toEqual([]);
  });

  it.each([
    ["baseUrl that is not a URL", { baseUrl: "keystore" }, /baseUrl is not a URL/],
    ["baseUrl that is not http(s)", { baseUrl: "file:///etc/" }, /must be http\(s\)/],
    ["zero timeoutMs", { timeoutMs: 0 }, /timeoutMs must be a positive integer/],
    ["negative maxBytes", { maxBytes: -1 }, /maxBytes must be a positive integer/],
  ])("rejects a %s when created (bad configuration fails at boot)", (_case, overrides, message) => {
    expect(() => keystore(overrides)).toThrow(message);
  });
});
