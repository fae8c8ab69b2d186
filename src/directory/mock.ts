import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { listen } from "../http/listen.js";
import { join, resolve, sep } from "node:path";
import { loadMockCrls, type MockCrls } from "./mock-crls.js";

export interface MockDirectoryOptions {
  /** The folder `ofb-edge pki init` writes as `<pki>/directory/`: participants.json, roles.json, keystore/. */
  readonly fixtureDir: string;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0 (any free port). */
  readonly port?: number;
  /** Called for every request received (tests count what a client fetched). */
  readonly onRequest?: (request: { readonly method: string; readonly path: string }) => void;
}

export interface MockDirectory {
  /** Base URL, no trailing slash. */
  readonly url: string;
  readonly participantsUrl: string;
  /** Ends with `/keystore/`: the value for `directory.keystoreUrl`. */
  readonly keystoreUrl: string;
  /**
   * The test PKI's CRLs on this server, as `revocation.urls` takes them (CA SHA-256 → URL), when the fixture is the
   * `directory/` folder of a test PKI; empty otherwise.
   */
  readonly crlUrls: Readonly<Record<string, readonly string[]>>;
  close(): Promise<void>;
}

/** The documents served with validators (RFC 9110 §8.8), as the real `/participants` dump is cached upstream. */
const DOCUMENTS: Readonly<Record<string, string>> = { "/participants": "participants.json", "/roles": "roles.json" };
const KEYSTORE_PREFIX = "/keystore/";
const KEYSTORE_TYPES: Readonly<Record<string, string>> = { ".jwks": "application/json", ".pem": "application/x-pem-file" };

/**
 * A local stand-in for the OFB Directory (the public `/participants` document and the keystore's
 * `<org>/<software statement>/transport.jwks`) for development, the embedded default and tests. Files are read on
 * every request, so a test can change the fixture while the server runs. When the fixture is the `directory/`
 * folder `ofb-edge pki init` wrote, the server also publishes that PKI's CRLs, where its certificates' CRL
 * distribution points say (`/crl/<ca>.crl`), listing the certificates it revoked. TEST ONLY.
 */
export async function startMockDirectory(options: MockDirectoryOptions): Promise<MockDirectory> {
  const fixtureDir = resolve(options.fixtureDir);
  const participants = join(fixtureDir, DOCUMENTS["/participants"]!);
  if (!(await stat(participants).then((s) => s.isFile(), () => false))) {
    throw new Error(`no participants.json in ${fixtureDir}: point --fixture at the directory/ folder written by 'ofb-edge pki init'`);
  }
  const keystoreRoot = join(fixtureDir, "keystore");
  const crls = await loadMockCrls(fixtureDir);

  const server = createServer((req, res) => {
    options.onRequest?.({ method: req.method ?? "", path: req.url ?? "" });
    handle(req, res, fixtureDir, keystoreRoot, crls).catch(() => sendJson(res, 500, { error: "internal error" }));
  });
  const host = options.host ?? "127.0.0.1";
  const port = await listen(server, options.port ?? 0, host);
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  return {
    url,
    participantsUrl: `${url}/participants`,
    keystoreUrl: `${url}${KEYSTORE_PREFIX}`,
    crlUrls: Object.fromEntries([...(crls?.paths ?? [])].map(([sha256, path]) => [sha256, [`${url}${path}`]])),
    close: () =>
      new Promise<void>((done, fail) => {
        server.close((err) => (err ? fail(err) : done()));
        // Keep-alive clients (undici) would otherwise hold the server open.
        server.closeAllConnections();
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, fixtureDir: string, keystoreRoot: string, crls: MockCrls | null): Promise<void> {
  const path = (req.url ?? "/").split("?")[0]!;
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("allow", "GET, HEAD");
    return sendJson(res, 405, { error: "method not allowed" });
  }
  const document = Object.hasOwn(DOCUMENTS, path) ? DOCUMENTS[path] : undefined;
  if (document !== undefined) return sendDocument(req, res, join(fixtureDir, document));
  const crl = await crls?.get(path, new Date());
  if (crl) {
    // RFC 5280 §4.2.1.13 / RFC 2585 §3: a DER CRL over HTTP, as application/pkix-crl.
    res.writeHead(200, { "content-type": "application/pkix-crl", "content-length": crl.length, "cache-control": "no-cache" });
    return void res.end(req.method === "HEAD" ? undefined : crl);
  }
  if (path.startsWith(KEYSTORE_PREFIX)) {
    const file = keystoreFile(path.slice(KEYSTORE_PREFIX.length), keystoreRoot);
    const body = file ? await readFile(file.path).catch(() => null) : null;
    if (file && body) {
      res.writeHead(200, { "content-type": file.type, "content-length": body.length });
      return void res.end(body);
    }
  }
  sendJson(res, 404, { error: "not found" });
}

/**
 * The file a keystore path names, or null. Every segment is decoded and checked on its own, so neither
 * `..` nor an encoded `/` (`%2F`) nor a backslash can leave the keystore folder; only `.jwks` and `.pem` are served.
 */
function keystoreFile(rest: string, root: string): { path: string; type: string } | null {
  const segments: string[] = [];
  for (const raw of rest.split("/")) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (segment === "" || segment === "." || segment === ".." || /[/\\\0]/.test(segment)) return null;
    segments.push(segment);
  }
  const name = segments.at(-1) ?? "";
  const type = KEYSTORE_TYPES[name.slice(name.lastIndexOf("."))];
  const path = resolve(root, ...segments);
  if (type === undefined || !path.startsWith(root + sep)) return null;
  return { path, type };
}

/** A document with `ETag` and `Last-Modified`, answering conditional requests (RFC 9110 §13.1.1–2) with 304. */
async function sendDocument(req: IncomingMessage, res: ServerResponse, file: string): Promise<void> {
  const [body, info] = await Promise.all([readFile(file), stat(file)]).catch(() => [null, null] as const);
  if (!body || !info) return sendJson(res, 404, { error: "not found" });
  const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
  const modified = Math.floor(info.mtimeMs / 1000) * 1000;
  const validators = { etag, "last-modified": new Date(modified).toUTCString(), "cache-control": "no-cache" };
  if (notModified(req, etag, modified)) {
    res.writeHead(304, validators);
    return void res.end();
  }
  res.writeHead(200, { ...validators, "content-type": "application/json; charset=utf-8", "content-length": body.length });
  res.end(body);
}

function notModified(req: IncomingMessage, etag: string, modified: number): boolean {
  const ifNoneMatch = req.headers["if-none-match"];
  // RFC 9110 §13.1.3: If-Modified-Since is ignored when If-None-Match is present; §8.8.3.2: weak comparison.
  if (ifNoneMatch !== undefined) {
    return ifNoneMatch.split(",").some((tag) => tag.trim() === "*" || tag.trim().replace(/^W\//, "") === etag);
  }
  const since = Date.parse(req.headers["if-modified-since"] ?? "");
  return Number.isFinite(since) && modified <= since;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.destroy();
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
