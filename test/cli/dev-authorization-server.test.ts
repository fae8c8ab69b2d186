import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { createLocalJWKSet, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { freePort } from "../helpers/backend.js";
import { testPki } from "../helpers/edge.js";

/**
 * `ofb-edge dev authorization-server`, the README production shape's authorization server: discovery and a JWK Set
 * under the issuer it is told, and at start a token bound to participant-a's certificate, written where the README's
 * requests read it.
 */

const ROOT = resolve(import.meta.dirname, "../..");
const run = promisify(execFile);

let pki: TestPkiManifest;
let tokens: string;
let port: number;
let child: ChildProcess;
const lines: string[] = [];

beforeAll(async () => {
  pki = await testPki();
  tokens = join(await mkdtemp(join(tmpdir(), "ofb-edge-tokens-")), "tokens");
  port = await freePort();
  child = spawn(process.execPath, ["bin/ofb-edge.js", "dev", "authorization-server", "--port", String(port), "--issuer", "http://authorization-server:8400/", "--pki", dirname(pki.trustAnchors).replace(/\/ca$/, ""), "--tokens", tokens], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  await new Promise<void>((ready, fail) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      lines.push(line);
      if (line.includes("token ")) ready();
    });
    child.once("exit", (code) => fail(new Error(`exited with ${code}`)));
  });
});

afterAll(async () => {
  if (child?.exitCode === null) {
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  }
  await rm(dirname(tokens), { recursive: true, force: true });
});

describe("ofb-edge dev authorization-server", () => {
  it("names the issuer it was given in discovery, and serves its JWK Set", async () => {
    const discovery = (await (await fetch(`http://127.0.0.1:${port}/.well-known/openid-configuration`)).json()) as Record<string, string>;
    expect(discovery.issuer).toBe("http://authorization-server:8400");
    expect(discovery.jwks_uri).toBe("http://authorization-server:8400/jwks");
    expect(lines.join("\n")).toContain("issuer         http://authorization-server:8400");
  });

  it("writes a 24 h PS256 token bound to participant-a's certificate, readable by its owner only", async () => {
    const file = join(tokens, "participant-a.jwt");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const token = (await readFile(file, "utf8")).trim();
    const jwks = await (await fetch(`http://127.0.0.1:${port}/jwks`)).json();
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]), { issuer: "http://authorization-server:8400", algorithms: ["PS256"] });
    const leaf = new X509Certificate(await readFile(pki.clients["participant-a"]!.cert));
    expect(protectedHeader.alg).toBe("PS256");
    expect(payload.cnf).toEqual({ "x5t#S256": createHash("sha256").update(leaf.raw).digest("base64url") });
    expect(payload.client_id).toBe(pki.clients["participant-a"]!.softwareStatementId);
    expect(payload.exp! - payload.iat!).toBe(24 * 3600);
  });

  it.each([
    [["--port", "x"], 2, "--port must be an integer from 0 to 65535"],
    [["--issuer", "not a url"], 2, "--issuer must be a URL"],
    [["--bogus"], 2, "Unknown option '--bogus'"],
    [["--pki", "/nonexistent/pki", "--port", "0"], 1, "no test PKI in /nonexistent/pki (run 'ofb-edge pki init' first)"],
  ])("%j: exit %i, saying %s", async (args, code, message) => {
    const failed = await run(process.execPath, ["bin/ofb-edge.js", "dev", "authorization-server", ...args], { cwd: ROOT }).then(
      () => ({ code: 0, stderr: "" }),
      (err: { code: number; stderr: string }) => err,
    );
    expect(failed.code).toBe(code);
    expect(failed.stderr).toContain(message);
  });
});
