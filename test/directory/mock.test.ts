import { cp, mkdtemp, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startMockDirectory, type MockDirectory } from "../../src/directory/mock.js";
import { loadTestPki, type TestPkiManifest } from "../../src/pki/test-pki/index.js";

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** A raw HTTP request: the path is sent exactly as written (no client-side `..` normalisation). */
function send(base: string, path: string, headers: Record<string, string> = {}, method = "GET"): Promise<Reply> {
  const { hostname, port } = new URL(base);
  return new Promise((done, fail) => {
    const req = request({ host: hostname, port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", fail);
    req.end();
  });
}

describe("mock OFB Directory (participants, roles and keystore routes over the test PKI fixture)", () => {
  let pki: TestPkiManifest;
  let fixture: string;
  let mock: MockDirectory;
  let jwksPath: string;
  let pemPath: string;

  beforeAll(async () => {
    pki = await loadTestPki(inject("pkiDir"));
    // A private copy: some tests change files while the server runs.
    fixture = join(await mkdtemp(join(tmpdir(), "ofb-mock-dir-")), "directory");
    await cp(dirname(pki.directory.participants), fixture, { recursive: true });
    await writeFile(join(fixture, "secret.jwks"), '{"keys":["outside the keystore"]}');
    await writeFile(join(fixture, "keystore", "notes.txt"), "not a keystore file");
    mock = await startMockDirectory({ fixtureDir: fixture });
    const a = pki.clients["participant-a"]!;
    jwksPath = `${a.organisationId}/${a.softwareStatementId}/transport.jwks`;
    pemPath = `${a.organisationId}/${a.softwareStatementId}/${a.thumbprint}.pem`;
  });
  afterAll(async () => {
    await mock.close();
    await rm(dirname(fixture), { recursive: true, force: true });
  });

  it("advertises its URLs; keystoreUrl ends with /keystore/", () => {
    expect(mock.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(mock.participantsUrl).toBe(`${mock.url}/participants`);
    expect(mock.keystoreUrl).toBe(`${mock.url}/keystore/`);
  });

  it.each([
    ["/participants", "participants.json"],
    ["/roles", "roles.json"],
  ])("GET %s serves %s as JSON with an ETag and Last-Modified", async (path, file) => {
    const res = await send(mock.url, path);
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(res.body).toBe(await readFile(join(fixture, file), "utf8"));
    expect(res.headers.etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect(new Date(res.headers["last-modified"] as string).toUTCString()).toBe(res.headers["last-modified"]);
  });

  it("HEAD /participants answers the validators without a body", async () => {
    const res = await send(mock.url, "/participants", {}, "HEAD");
    expect(res.status).toBe(200);
    expect(res.headers.etag).toBeDefined();
    expect(res.body).toBe("");
  });

  it.each([
    ["transport.jwks", () => jwksPath, "application/json"],
    ["a <kid>.pem certificate", () => pemPath, "application/x-pem-file"],
  ])("GET /keystore/ serves %s with its media type", async (_what, path, type) => {
    const res = await send(mock.url, `/keystore/${path()}`);
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe(type);
    expect(res.body).toBe(await readFile(join(fixture, "keystore", path()), "utf8"));
  });

  describe("conditional requests (RFC 9110 §13.1)", () => {
    it("If-None-Match with the current ETag (strong, weak, in a list, or *) answers 304 with the validators", async () => {
      const { headers } = await send(mock.url, "/participants");
      const etag = headers.etag as string;
      for (const value of [etag, `W/${etag}`, `"other", ${etag}`, "*"]) {
        const res = await send(mock.url, "/participants", { "if-none-match": value });
        expect(res.status, value).toBe(304);
        expect(res.body).toBe("");
        expect(res.headers.etag).toBe(etag);
        expect(res.headers["last-modified"]).toBe(headers["last-modified"]);
      }
      expect((await send(mock.url, "/participants", { "if-none-match": '"other"' })).status).toBe(200);
    });

    it("If-Modified-Since at or after Last-Modified answers 304; before it, 200", async () => {
      const { headers } = await send(mock.url, "/roles");
      const lastModified = Date.parse(headers["last-modified"] as string);
      expect((await send(mock.url, "/roles", { "if-modified-since": headers["last-modified"] as string })).status).toBe(304);
      expect((await send(mock.url, "/roles", { "if-modified-since": new Date(lastModified + 60_000).toUTCString() })).status).toBe(304);
      expect((await send(mock.url, "/roles", { "if-modified-since": new Date(lastModified - 1_000).toUTCString() })).status).toBe(200);
      expect((await send(mock.url, "/roles", { "if-modified-since": "not a date" })).status).toBe(200);
    });

    it("If-None-Match takes precedence over If-Modified-Since (RFC 9110 §13.1.3)", async () => {
      const { headers } = await send(mock.url, "/roles");
      const res = await send(mock.url, "/roles", { "if-none-match": '"stale"', "if-modified-since": headers["last-modified"] as string });
      expect(res.status).toBe(200);
    });

    it("reads the fixture per request: a changed document gets a new ETag and a 200 for the old one", async () => {
      const before = await send(mock.url, "/participants");
      const changed = JSON.stringify([{ OrganisationId: pki.clients["participant-a"]!.organisationId, Status: "Withdrawn" }]);
      const file = join(fixture, "participants.json");
      await writeFile(file, changed);
      const later = new Date(Date.parse(before.headers["last-modified"] as string) + 120_000);
      await utimes(file, later, later);
      const res = await send(mock.url, "/participants", { "if-none-match": before.headers.etag as string });
      expect(res.status).toBe(200);
      expect(res.body).toBe(changed);
      expect(res.headers.etag).not.toBe(before.headers.etag);
      expect(res.headers["last-modified"]).toBe(later.toUTCString());
    });
  });

  // Only files under directory/keystore/ with .jwks or .pem may ever leave the mock.
  it.each([
    ["../ out of the keystore", "/keystore/../secret.jwks"],
    ["../ out of the fixture", "/keystore/../../directory/secret.jwks"],
    ["percent-encoded ..", "/keystore/%2e%2e/secret.jwks"],
    ["an encoded slash", "/keystore/..%2fsecret.jwks"],
    ["an encoded backslash", "/keystore/..%5csecret.jwks"],
    ["an empty segment (absolute path)", "/keystore//etc/passwd.pem"],
    ["a NUL byte", "/keystore/notes.txt%00.pem"],
    ["a malformed escape", "/keystore/%E0%A4%A.jwks"],
    ["a file with another extension", "/keystore/notes.txt"],
    ["the keystore folder itself", "/keystore/"],
    ["a folder", "/keystore/x.jwks/"],
  ])("path traversal refused with 404: %s", async (_case, path) => {
    const res = await send(mock.url, path);
    expect(res.status).toBe(404);
    expect(res.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(JSON.parse(res.body)).toEqual({ error: "not found" });
  });

  it.each(["/", "/participants/extra", "/participants.json", "/roots.jwks", "/keystore/00000000-0000-0000-0000-000000000000/x/transport.jwks"])(
    "anything else is a JSON 404: %s",
    async (path) => {
      const res = await send(mock.url, path);
      expect(res.status).toBe(404);
      expect(JSON.parse(res.body)).toEqual({ error: "not found" });
    },
  );

  it("a method other than GET or HEAD is refused with 405 and Allow", async () => {
    const res = await send(mock.url, "/participants", {}, "POST");
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe("GET, HEAD");
  });

  it("refuses to start on a folder without participants.json, saying what to point it at", async () => {
    const empty = await mkdtemp(join(tmpdir(), "ofb-mock-empty-"));
    await expect(startMockDirectory({ fixtureDir: empty })).rejects.toThrow(`no participants.json in ${empty}: point --fixture at the directory/ folder written by 'ofb-edge pki init'`);
    await rm(empty, { recursive: true });
  });
});
