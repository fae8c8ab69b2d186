import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { terminalText } from "../../src/cli/inspect.js";
import { ConfigError } from "../../src/errors.js";
import { loadProfiles, readProfileFile } from "../../src/profiles/load.js";
import type { TestPkiManifest } from "../../src/pki/test-pki/index.js";
import { startRecordingBackend } from "../helpers/backend.js";
import { httpsRequest } from "../helpers/client.js";
import { clientCredentials, startTestEdge, testPki } from "../helpers/edge.js";

/**
 * Header profiles at work (docs/architecture.md §Header profiles): selection per route and per calling organisation, anti-spoofing of
 * every field any loaded profile can emit (on mTLS and plain requests, in both directions), size limits and
 * their actions, and profile files with the exact error path.
 */

const ROOT = resolve(import.meta.dirname, "../..");
const run = promisify(execFile);
let pki: TestPkiManifest;
let dir: string;

function profileFile(name: string, body: unknown): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, typeof body === "string" ? body : JSON.stringify(body, null, 2));
  return file;
}

function issuesOf(fn: () => unknown): { file: string; issues: { path: string; message: string }[] } {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return { file: (err as ConfigError).file, issues: [...(err as ConfigError).issues] };
  }
  throw new Error("accepted");
}

beforeAll(async () => {
  pki = await testPki();
  dir = mkdtempSync(join(tmpdir(), "ofb-edge-profiles-"));
});

describe("profile files", () => {
  it("every built-in is valid, and their field names are all stripped", () => {
    const loaded = loadProfiles();
    expect([...loaded.byName.keys()].sort()).toEqual(
      ["apache-modssl", "aws-alb-passthrough", "aws-alb-verify", "azion", "azure-arr", "cloudflare", "envoy-xfcc", "gcp-lb", "haproxy", "nginx", "nginx-ingress", "ofb-identity", "rfc9440", "traefik"].sort(),
    );
    expect(loaded.headerNames.has("x-amzn-mtls-clientcert-leaf")).toBe(true);
    expect(loaded.headerNames.has("x-client-cert-hash")).toBe(true);
  });

  it.each([
    ["unknown key", { name: "p", description: "d", headers: [{ name: "x-a", source: "leaf", encoding: "sf-binary", colour: 1 }] }, "headers[0]", "colour"],
    ["unknown source", { name: "p", description: "d", headers: [{ name: "x-a", source: "private-key" }] }, "headers[0].source", ""],
    ["a source without its format", { name: "p", description: "d", headers: [{ name: "x-a", source: "subject" }] }, "headers[0].dnFormat", "required"],
    ["a format the source does not use", { name: "p", description: "d", headers: [{ name: "x-a", source: "cnpj", encoding: "sf-binary" }] }, "headers[0].encoding", "not used"],
    ["an invalid field name", { name: "p", description: "d", headers: [{ name: "x a", source: "cnpj" }] }, "headers[0].name", "field name"],
    ["a flag without maxBytes", { name: "p", description: "d", headers: [{ name: "x-a", source: "cnpj", onOversize: { flag: "x-a-too-large" } }] }, "headers[0].onOversize", "maxBytes"],
    ["two headers with one name", { name: "p", description: "d", headers: [{ name: "x-a", source: "cnpj" }, { name: "X-A", source: "organisation-id" }] }, "headers[1].name", "already set"],
  ])("%s: the error names the file and the JSON path", (_what, body, path, message) => {
    const file = profileFile("bad", body);
    const { file: named, issues } = issuesOf(() => readProfileFile(file));
    expect(named).toBe(file);
    expect(issues.some((i) => i.path === path && i.message.includes(message))).toBe(true);
  });

  it("invalid JSON names the line and column", () => {
    const file = profileFile("syntax", '{\n  "name": "p",\n  "headers": [,]\n}');
    expect(issuesOf(() => readProfileFile(file)).issues[0]!.message).toMatch(/invalid JSON at line 3, column \d+/);
  });

  it("an operator profile may not reuse a built-in's name", () => {
    const file = profileFile("shadow", { name: "rfc9440", description: "d", headers: [{ name: "x-a", source: "cnpj" }] });
    expect(issuesOf(() => loadProfiles({ files: [file] })).issues).toEqual([{ path: "name", message: expect.stringContaining("already defined") }]);
  });

  it("`ofb-edge profiles check` validates files exactly as start-up does (exit 1, file and path named)", async () => {
    const good = profileFile("good", { name: "bank-legacy", description: "d", headers: [{ name: "x-bank-cnpj", source: "cnpj" }] });
    const { stdout } = await run(process.execPath, ["bin/ofb-edge.js", "profiles", "check", good], { cwd: ROOT });
    expect(stdout).toContain(`valid: bank-legacy  (${good})`);
    expect(stdout).toContain("valid: rfc9440");
    const bad = profileFile("bad-cli", { name: "p", description: "d", headers: [{ name: "x-a", source: "subject" }] });
    const err = await run(process.execPath, ["bin/ofb-edge.js", "profiles", "check", bad], { cwd: ROOT }).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(1);
    expect(err?.stderr).toContain(`${bad}: invalid`);
    expect(err?.stderr).toContain("headers[0].dnFormat: required for source 'subject'");
  });

  it("`ofb-edge inspect` shows identity, thumbprint, verdict and the fields a profile would send", async () => {
    const a = pki.clients["participant-a"]!;
    const { stdout } = await run(process.execPath, ["bin/ofb-edge.js", "inspect", a.chain, "--trust-anchors", pki.trustAnchors, "--transport-root", pki.ca.root.cert, "--profile", "ofb-identity"], { cwd: ROOT });
    expect(stdout).toContain(`x5t#S256:    ${a.thumbprint}`);
    expect(stdout).toContain(`organisation ${a.organisationId}, software statement ${a.softwareStatementId}`);
    expect(stdout).toContain("verdict:     accepted");
    expect(stdout).toContain(`  x-ofb-organisation-id: ${a.organisationId}`);
    // Raw DN octets (HAProxy copies the UTF-8 as is) are printed as those bytes, so a UTF-8 terminal shows the text the backend reads.
    const raw = await run(process.execPath, ["bin/ofb-edge.js", "inspect", a.chain, "--trust-anchors", pki.trustAnchors, "--transport-root", pki.ca.root.cert, "--profile", "haproxy", "--profile", "apache-modssl"], { cwd: ROOT });
    expect(raw.stdout).toMatch(/^ {2}x-ssl-client-dn: "\/businessCategory=.*\/L=São Paulo\/.*"$/m);
    expect(raw.stdout).toMatch(/^ {2}x-ssl-client-s-dn: CN=.*,L=São Paulo,ST=SP,/m);
    // Octets that are not UTF-8 (a T61String's Latin-1) are shown escaped instead.
    expect(terminalText("Jo\u00e3o S\u00c3\u00a3o")).toBe("Jo\\xE3o S\\xC3\\xA3o");
    expect(terminalText("plain ASCII")).toBe("plain ASCII");
    const rejected = await run(process.execPath, ["bin/ofb-edge.js", "inspect", pki.clients["no-eku"]!.chain, "--trust-anchors", pki.trustAnchors, "--transport-root", pki.ca.root.cert], { cwd: ROOT }).then(
      () => null,
      (e: { code: number; stdout: string }) => e,
    );
    expect(rejected?.code).toBe(1);
    expect(rejected?.stdout).toContain("rejected CERT_EKU_CLIENT_AUTH_MISSING");
  });
});

describe("profiles on the wire", () => {
  let backend: Awaited<ReturnType<typeof startRecordingBackend>>;
  let edge: Awaited<ReturnType<typeof startTestEdge>>;
  let custom: string;

  beforeAll(async () => {
    custom = profileFile("limits", {
      name: "limits",
      description: "size actions",
      headers: [
        { name: "x-limit-omit", source: "leaf", encoding: "der-base64", maxBytes: 100 },
        { name: "x-limit-flag", source: "leaf", encoding: "der-base64", maxBytes: 100, onOversize: { flag: "x-limit-flag-too-large" } },
        { name: "x-fits", source: "cnpj", maxBytes: 100 },
        { name: "x-chain-flag", source: "chain", encoding: "sf-binary", chain: { includeLeaf: true, separator: ", " }, maxBytes: 2048, onOversize: { flag: "x-chain-too-large", value: "1" } },
        { name: "x-chain-fits", source: "chain", encoding: "sf-binary", maxBytes: 65536 },
        { name: "x-no-cert", source: "leaf", encoding: "der-base64", whenAbsent: { value: "(null)" } },
      ],
    });
    const reject = profileFile("reject", { name: "reject-big", description: "d", headers: [{ name: "x-big", source: "leaf", encoding: "der-base64", maxBytes: 100, onOversize: "reject" }] });
    // The backend tries to leak certificate fields in its response: the client must never see them.
    backend = await startRecordingBackend((req, res) => {
      res.writeHead(200, { "content-type": "application/json", "x-amzn-mtls-clientcert-leaf": "LEAK", "x-limit-omit": "LEAK", "cf-cert-verified": "LEAK", "x-big": "LEAK" });
      res.end(JSON.stringify({ ok: true, path: req.url }));
    });
    const b = pki.clients["participant-b"]!;
    edge = await startTestEdge({
      pki,
      upstream: backend.url,
      routes: [
        { name: "default", pathPrefix: "/open-banking/", upstream: backend.url },
        { name: "per-org", pathPrefix: "/per-org/", upstream: backend.url, profiles: ["rfc9440"], profilesByOrganisation: { [b.organisationId!]: ["nginx-ingress"] } },
        { name: "limits", pathPrefix: "/limits/", upstream: backend.url, mtls: "optional", profiles: ["limits"] },
        { name: "reject", pathPrefix: "/reject/", upstream: backend.url, profiles: ["reject-big"] },
        { name: "plain", pathPrefix: "/plain/", upstream: backend.url, mtls: "optional", interactionId: "generate", profiles: ["envoy-xfcc"] },
      ],
      // Loaded: the built-ins and these two files; every one of their field names is stripped everywhere.
      headerProfiles: { files: [custom, reject] },
    });
  });

  afterAll(async () => {
    await edge?.close();
    await backend?.close();
  });

  const call = (client: string | null, path: string, headers: Record<string, string> = {}) =>
    httpsRequest({ pki, port: edge.port, credentials: client === null ? undefined : clientCredentials(pki, client), path, headers });

  it("the default route list is rfc9440 + ofb-identity", async () => {
    await call("participant-a", "/open-banking/accounts/v2/accounts");
    const h = backend.received.at(-1)!.headers;
    expect(h["client-cert"]).toMatch(/^:[A-Za-z0-9+/=]+:$/);
    expect(h["x-ofb-organisation-id"]).toBe(pki.clients["participant-a"]!.organisationId);
  });

  it("a per-organisation override replaces the route's list for that organisation only", async () => {
    await call("participant-b", "/per-org/x");
    expect(backend.received.at(-1)!.headers["ssl-client-cert"]).toBeDefined();
    expect(backend.received.at(-1)!.headers["client-cert"]).toBeUndefined();
    await call("participant-a", "/per-org/x");
    expect(backend.received.at(-1)!.headers["client-cert"]).toBeDefined();
    expect(backend.received.at(-1)!.headers["ssl-client-cert"]).toBeUndefined();
  });

  it("oversize: omit drops the field, a flag replaces it, values within the limit pass", async () => {
    await call("participant-a", "/limits/x");
    const h = backend.received.at(-1)!.headers;
    expect(h["x-limit-omit"]).toBeUndefined();
    expect(h["x-limit-flag"]).toBeUndefined();
    expect(h["x-limit-flag-too-large"]).toBe("true");
    expect(h["x-fits"]).toBe(pki.clients["participant-a"]!.cnpj);
    // Leaf + intermediate as Byte Sequences: over 2 KiB, so flagged; the intermediate alone fits 64 KiB.
    expect(h["x-chain-flag"]).toBeUndefined();
    expect(h["x-chain-too-large"]).toBe("1");
    expect(h["x-chain-fits"]).toMatch(/^:[A-Za-z0-9+/=]+:$/);
  });

  it("oversize with reject: 431 PROFILE_HEADER_TOO_LARGE, nothing forwarded", async () => {
    const before = backend.received.length;
    const res = await call("participant-a", "/reject/x");
    expect(res.status).toBe(431);
    expect(res.json<{ errors: { code: string }[] }>().errors[0]!.code).toBe("PROFILE_HEADER_TOO_LARGE");
    expect(backend.received.length).toBe(before);
  });

  it("without a certificate, whenAbsent decides: a literal is sent, certificate fields are not", async () => {
    await call(null, "/limits/x");
    const h = backend.received.at(-1)!.headers;
    expect(h["x-no-cert"]).toBe("(null)");
    expect(h["x-fits"]).toBeUndefined();
  });

  it("every field any loaded profile can emit is stripped from requests, mTLS or not, and from responses", async () => {
    const names = [...loadProfiles({ files: [custom] }).headerNames, "x-big"];
    const spoofed = Object.fromEntries(names.map((n) => [n, "SPOOFED"]));
    for (const client of ["participant-a", null]) {
      const res = await call(client, "/plain/x", spoofed);
      for (const leaked of ["x-amzn-mtls-clientcert-leaf", "x-limit-omit", "cf-cert-verified", "x-big"]) expect(res.headers[leaked]).toBeUndefined();
      const rec = backend.received.at(-1)!;
      for (const n of names) expect(rec.headers[n], `${n} (${client ?? "no certificate"})`).not.toBe("SPOOFED");
      // The active profile's own field is set fresh (mTLS) or absent (plain): never the client's copy.
      if (client) expect(rec.headers["x-forwarded-client-cert"]).toMatch(/^Hash=[0-9a-f]{64};/);
      else expect(rec.headers["x-forwarded-client-cert"]).toBeUndefined();
    }
  });
});
