import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { freePort } from "../helpers/backend.js";
import { errorCode, readmeRequests, runReadmeRequest } from "../helpers/readme.js";
import { compactVerify, decodeJwt, importJWK, type JWK } from "jose";
import { TEST_PKI_VERSION } from "../../src/pki/test-pki/index.js";

/**
 * The README's Quick start, end to end: `ofb-edge serve` with no configuration (what `npm start` runs) generates
 * a test PKI on first run, starts the edge with the echo backend, and prints a curl command that, pasted into a
 * shell, goes through the whole pipeline. The command is run verbatim with the real curl, and so is every request
 * the README says the edge refuses.
 */

const ROOT = resolve(import.meta.dirname, "../..");
const run = promisify(execFile);
/** The README runs the CLI from the repository; this test's state folder is elsewhere. */
const cli = (text: string) => text.replaceAll("node bin/ofb-edge.js", `${process.execPath} ${join(ROOT, "bin/ofb-edge.js")}`);

interface Started {
  readonly child: ChildProcess;
  /** The banner: stderr, line by line. */
  readonly lines: string[];
  /** stdout, line by line: the JSON log. */
  readonly stdout: string[];
  readonly curl: string;
}

async function startServe(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, ["bin/ofb-edge.js", "serve"], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  const stdout: string[] = [];
  createInterface({ input: child.stdout! }).on("line", (line) => stdout.push(line));
  const curl = await new Promise<string>((resolveLine, reject) => {
    const timer = setTimeout(() => reject(new Error(`no curl line within 60 s; stderr: ${lines.join("\n")}`)), 60_000);
    createInterface({ input: child.stderr! }).on("line", (line) => {
      lines.push(line);
      if (line.startsWith("curl ")) {
        clearTimeout(timer);
        resolveLine(line);
      }
    });
    child.once("exit", (code) => reject(new Error(`serve exited with ${code}: ${lines.join("\n")}`)));
  });
  return { child, lines, stdout, curl };
}

async function stop(child: ChildProcess): Promise<number | string | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = new Promise<number | string | null>((r) => child.once("exit", (code, signal) => r(signal ?? code)));
  child.kill("SIGTERM");
  return exited;
}

describe("npm start: the embedded default", () => {
  /** Holds `.ofb-edge/` (the state folder), as a clone's top folder does: the README's requests run from here. */
  let top: string;
  let stateDir: string;
  let port: number;
  let env: Record<string, string>;
  let first: Started;

  beforeAll(async () => {
    top = await mkdtemp(join(tmpdir(), "ofb-edge-state-"));
    stateDir = join(top, ".ofb-edge");
    port = await freePort();
    env = { OFB_EDGE_STATE_DIR: stateDir, OFB_EDGE_LISTENER_EDGE_PORT: String(port), OFB_EDGE_ADMIN_PORT: String(await freePort()) };
    first = await startServe(env);
  }, 90_000);

  afterAll(async () => {
    await stop(first.child);
    await rm(top, { recursive: true, force: true });
  });

  it("keeps stdout for the JSON log: the banner and the curl command are on stderr", async () => {
    // Lines reach stdout within the logger's flush interval.
    await vi.waitFor(() => expect(first.stdout.some((l) => l.includes('"msg":"listening"'))).toBe(true), { timeout: 5_000 });
    for (const line of first.stdout) expect(() => JSON.parse(line), `not JSON on stdout: ${line}`).not.toThrow();
    expect(first.stdout.join("\n")).not.toContain("ofb-edge is listening");
  });

  it("generates the test PKI on first run and prints a curl command on a line of its own", () => {
    const text = first.lines.join("\n");
    expect(text).toContain(`ofb-edge is listening on https://localhost:${port}`);
    expect(text).toContain(`generated a test PKI in ${join(stateDir, "pki")}`);
    expect(first.curl).toMatch(/^curl --cacert \S+ --cert \S+ --key \S+ -H 'x-fapi-interaction-id: [0-9a-f-]{36}' -H 'Authorization: Bearer [A-Za-z0-9_.-]+' https:\/\/localhost:\d+\/open-banking\//);
  });

  it("the printed curl, pasted as is, shows exactly what the backend received: participant-a's certificate as RFC 9440 Client-Cert", async () => {
    const { stdout } = await run("sh", ["-c", `${first.curl} --silent --show-error --fail-with-body`], { cwd: ROOT });
    const { received } = JSON.parse(stdout) as { received: { method: string; path: string; headers: string[] } };
    const leaf = new X509Certificate(readFileSync(join(stateDir, "pki/clients/participant-a/cert.pem")));
    const interactionId = /x-fapi-interaction-id: ([0-9a-f-]{36})/.exec(first.curl)![1]!;
    expect(received.method).toBe("GET");
    expect(received.path).toBe("/open-banking/accounts/v2/accounts");
    expect(received.headers).toContain(`client-cert: :${leaf.raw.toString("base64")}:`);
    expect(received.headers).toContain(`x-fapi-interaction-id: ${interactionId}`);
    expect(received.headers.filter((h) => h.toLowerCase().startsWith("client-cert:"))).toHaveLength(1);
    // The participant as the built-in mock directory knows it (docs/architecture.md §Directory): organisation, software statement, roles.
    const manifest = JSON.parse(readFileSync(join(stateDir, "pki/manifest.json"), "utf8")) as { clients: Record<string, { organisationId: string; softwareStatementId: string }> };
    const a = manifest.clients["participant-a"]!;
    expect(received.headers).toContain(`x-ofb-organisation-id: ${a.organisationId}`);
    expect(received.headers).toContain(`x-ofb-software-statement-id: ${a.softwareStatementId}`);
    expect(received.headers).toContain("x-ofb-roles: DADOS,PAGTO");
    // The access token is bound to participant-a's certificate (RFC 8705) and forwarded unchanged, with its client_id.
    const token = /Authorization: Bearer ([A-Za-z0-9_.-]+)/.exec(first.curl)![1]!;
    const payload = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8")) as { cnf: Record<string, string>; client_id: string };
    expect(payload.cnf).toEqual({ "x5t#S256": createHash("sha256").update(leaf.raw).digest("base64url") });
    // curl speaks HTTP/2 to the edge (ALPN h2), whose field names are lower case (RFC 9113 §8.2.1).
    expect(received.headers).toContain(`authorization: Bearer ${token}`);
    expect(received.headers).toContain(`x-ofb-client-id: ${payload.client_id}`);
    expect(readFileSync(join(stateDir, "tokens/participant-a.jwt"), "utf8").trim()).toBe(token);
  });

  it("the README's second request: the same token with another participant's certificate is refused with 401 invalid_token", async () => {
    const other = first.curl.replaceAll("clients/participant-a/", "clients/participant-b/");
    const { stdout } = await run("sh", ["-c", `${other} --silent --show-error --include`], { cwd: ROOT });
    const [head, body] = stdout.split("\r\n\r\n");
    expect(head).toMatch(/^HTTP\/2 401 /);
    expect(head).toContain('www-authenticate: Bearer error="invalid_token"');
    const parsed = JSON.parse(body!) as { errors: { code: string }[]; received?: unknown };
    expect(parsed.errors[0]!.code).toBe("TOKEN_BINDING_MISMATCH");
    expect(parsed.received).toBeUndefined();
  });

  it("the same request without the token gets the RFC 6750 challenge without an error code", async () => {
    const noToken = first.curl.replace(/ -H 'Authorization: Bearer [^']+'/, "");
    const { stdout } = await run("sh", ["-c", `${noToken} --silent --show-error --include`], { cwd: ROOT });
    const [head, body] = stdout.split("\r\n\r\n");
    expect(head).toMatch(/^HTTP\/2 401 /);
    expect(head).toMatch(/\r\nwww-authenticate: Bearer\r\n/);
    expect((JSON.parse(body!) as { errors: { code: string }[] }).errors[0]!.code).toBe("TOKEN_MISSING");
  });

  it("the same request without a client certificate is refused with an OFB error and never reaches the backend", async () => {
    const withoutCert = first.curl.replace(/ --cert \S+ --key \S+/, "");
    const { stdout } = await run("sh", ["-c", `${withoutCert} --silent --show-error`], { cwd: ROOT });
    const body = JSON.parse(stdout) as { errors: { code: string }[]; received?: unknown };
    expect(body.errors[0]!.code).toBe("CERT_REQUIRED");
    expect(body.received).toBeUndefined();
  });

  it("another participant's certificate whose organisation is Pending in the directory is refused with 403", async () => {
    const pending = first.curl.replaceAll("clients/participant-a/", "clients/participant-pending/");
    const { stdout } = await run("sh", ["-c", `${pending} --silent --show-error`], { cwd: ROOT });
    expect((JSON.parse(stdout) as { errors: { code: string }[] }).errors[0]!.code).toBe("DIRECTORY_ORG_PENDING");
  });

  it.each(readmeRequests().map((r) => [r.comment, r] as const))("the README's request: %s", async (_comment, request) => {
    const before = first.stdout.length;
    const res = await runReadmeRequest(request, { cwd: top, port });
    const logged = () => first.stdout.slice(before).flatMap((l) => (l.startsWith("{") ? [JSON.parse(l) as Record<string, unknown>] : []));
    if (request.expect === "handshake-fails") {
      expect(res.exitCode).not.toBe(0);
      expect(res.status).toBeNull();
      await vi.waitFor(() => expect(logged().filter((l) => l.kind === "tls" && l.event === "handshake-failed").length).toBeGreaterThan(0));
    } else {
      expect({ status: res.status, code: errorCode(res.body) }).toEqual(request.expect);
      // Nothing reached the backend: the edge's access line for the request says it refused it.
      const { code } = request.expect;
      await vi.waitFor(() => expect(logged().filter((l) => l.kind === "access" && l.code === code).length).toBeGreaterThan(0));
      expect(new Set(logged().filter((l) => l.kind === "access" && l.code === code).map((l) => l.decision))).toEqual(new Set(["rejected"]));
    }
  });

  it("the README's idempotent payment: forwarded once, the re-signed retry replayed byte for byte, another body 422, no key 400", async () => {
    const requests = readmeRequests("### `idempotency` and `limits`");
    expect(requests.map((r) => r.expect)).toEqual([{ status: 200 }, { status: 200 }, { status: 422, code: "ERRO_IDEMPOTENCIA" }, { status: 400, code: "IDEMPOTENCY_KEY_MISSING" }]);
    const before = first.stdout.length;
    const answers = [];
    // Each request's block runs afresh, as each curl line would: every message is signed anew (a fresh jti and iat).
    for (const request of requests) answers.push(await runReadmeRequest({ setup: request.setup, command: cli(request.command) }, { cwd: top, port }));
    expect(answers.map((a) => [a.status, errorCode(a.body)])).toEqual(requests.map((r) => (r.expect === "handshake-fails" ? r.expect : [r.expect.status, r.expect.code])));
    const [firstAnswer, retry] = answers as [(typeof answers)[0], (typeof answers)[0]];
    expect(retry.body).toBe(firstAnswer.body);
    // The echo backend's answer (the payload of the bank-signed response) names the interaction id of the one request
    // it received; the retry's own id is in its header.
    expect(JSON.stringify(decodeJwt(firstAnswer.body.trim()))).toContain("6a1f0c9e-2b8d-4c3a-9e71-0d5f4b2a8c11");
    expect(retry.headers.toLowerCase()).toContain("x-fapi-interaction-id: 9d3e7b21-5c4f-4a8e-b0d2-7f1a6c3e9b44");
    const access = () => first.stdout.slice(before).flatMap((l) => (l.startsWith("{") ? [JSON.parse(l) as Record<string, unknown>] : [])).filter((l) => l.kind === "access");
    await vi.waitFor(() => expect(access()).toHaveLength(4));
    // (The workers' log lines interleave in any order.)
    expect(access().map((l) => l.decision).sort()).toEqual(["forwarded", "rejected", "rejected", "replayed"]);
  });

  const settled = new Map<string, string>();
  it.each(readmeRequests("## Signed payment messages").map((r) => [r.comment, r] as const))("the README's signed payment message: %s", async (_comment, request) => {
    // The block's assignments are made once, as in the reader's shell: the second request resends the first's message.
    if (!settled.has(request.setup)) {
      const names = [...request.setup.matchAll(/(?:^|\s)([A-Z]+)=/g)].map((m) => m[1]!);
      const { stdout } = await run("sh", ["-c", `${cli(request.setup)}\nprintf '%s\\0' ${names.map((n) => `"$${n}"`).join(" ")}`], { cwd: top });
      const values = stdout.split("\0");
      settled.set(request.setup, names.map((n, i) => `${n}='${values[i]!}'`).join(" "));
    }
    const before = first.stdout.length;
    const res = await runReadmeRequest({ setup: settled.get(request.setup)!, command: cli(request.command) }, { cwd: top, port });
    const logged = () => first.stdout.slice(before).flatMap((l) => (l.startsWith("{") ? [JSON.parse(l) as Record<string, unknown>] : []));
    if (request.expect === "handshake-fails") throw new Error("README.md: a signed-message request promises a failed handshake");
    expect({ status: res.status, code: errorCode(res.body) }).toEqual(request.expect);
    // Every answer on the payments route is a JWS signed by the bank, addressed to participant-a.
    expect(res.headers).toMatch(/^content-type: application\/jwt\r?$/im);
    const bank = JSON.parse(readFileSync(join(stateDir, "pki/manifest.json"), "utf8")) as { bank: { organisationId: string }; signingKeys: { bank: { kid: string } }; clients: Record<string, { organisationId: string }> };
    const jwks = JSON.parse(readFileSync(join(stateDir, "pki/directory/keystore", bank.bank.organisationId, "application.jwks"), "utf8")) as { keys: JWK[] };
    const { payload, protectedHeader } = await compactVerify(res.body.trim(), await importJWK(jwks.keys.find((k) => k.kid === bank.signingKeys.bank.kid)!, "PS256"));
    const claims = JSON.parse(Buffer.from(payload).toString("utf8")) as { iss: string; aud: string; received?: { method: string; body: { bytes: number } } };
    expect(protectedHeader.kid).toBe(bank.signingKeys.bank.kid);
    expect(claims.iss).toBe(bank.bank.organisationId);
    expect(claims.aud).toBe(bank.clients["participant-a"]!.organisationId);
    if (request.expect.code === undefined) {
      expect(claims.received?.method).toBe("POST");
      expect(claims.received?.body.bytes).toBeGreaterThan(100);
    } else {
      const { code } = request.expect;
      await vi.waitFor(() => expect(logged().filter((l) => l.kind === "access" && l.stage === "messages").length).toBeGreaterThan(0));
      expect(logged().filter((l) => l.kind === "access" && l.stage === "messages").map((l) => l.decision)).toEqual(["rejected"]);
      expect(code).toMatch(/^(BAD_SIGNATURE|INVALID_CLIENT)$/);
    }
  });

  it("stops cleanly on SIGTERM, and the next start reuses the generated PKI", async () => {
    expect(await stop(first.child)).toBe(0);
    const manifestBefore = readFileSync(join(stateDir, "pki/manifest.json"), "utf8");
    const second = await startServe(env);
    try {
      expect(second.lines.join("\n")).toContain(`test PKI in ${join(stateDir, "pki")}`);
      expect(second.lines.join("\n")).not.toContain("generated a test PKI");
      expect(readFileSync(join(stateDir, "pki/manifest.json"), "utf8")).toBe(manifestBefore);
    } finally {
      expect(await stop(second.child)).toBe(0);
    }
  }, 90_000);

  it("a test PKI of an older layout (manifest version 2, before signing keys) is generated anew on the next start", async () => {
    const manifest = join(stateDir, "pki/manifest.json");
    const { signingKeys: _keys, bank: _bank, ...older } = JSON.parse(readFileSync(manifest, "utf8")) as Record<string, unknown>;
    writeFileSync(manifest, JSON.stringify({ ...older, version: 2 }));
    const third = await startServe(env);
    try {
      expect(third.lines.join("\n")).toContain(`generated a test PKI in ${join(stateDir, "pki")}`);
      expect((JSON.parse(readFileSync(manifest, "utf8")) as { version: number }).version).toBe(TEST_PKI_VERSION);
    } finally {
      expect(await stop(third.child)).toBe(0);
    }
  }, 90_000);
});
