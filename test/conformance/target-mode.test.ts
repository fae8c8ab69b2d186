import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { runConformance } from "../../src/cli/conformance.js";
import { LOCAL_LIMITED_PATHS, startLocalStack, type LocalStack } from "../../src/conformance/local.js";
import type { SuiteResult } from "../../src/conformance/runner.js";
import { packageRoot } from "../../src/package-root.js";
import { redisUrl } from "../helpers/redis.js";

// Issue 7 §3: `ofb-edge conformance --target …` against a running edge (here the local stack's, reached only
// through what an operator would pass on the command line): the scenarios whose prerequisites are supplied run,
// the rest are skipped with the missing option named.

let stack: LocalStack;
let dir: string;

beforeAll(async () => {
  stack = await startLocalStack({ pkiDir: inject("pkiDir"), redis: { url: redisUrl() } });
  dir = await mkdtemp(join(tmpdir(), "ofb-edge-conformance-target-"));
  await writeFile(join(dir, "a.jwt"), `${await stack.environment.boundToken!("participant-a")}\n`);
}, 120_000);

afterAll(async () => {
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

async function cli(args: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runConformance(args, { stdout: (s) => out.push(s), stderr: (s) => err.push(s) }, { env, stdout: { isTTY: false, write: (s: string) => out.push(s) } });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const target = () => ["--target", `https://127.0.0.1:${stack.environment.target.port}`, "--servername", "localhost", "--ca", stack.pki.trustAnchors];

describe("ofb-edge conformance --target", () => {
  it("with a client certificate and its token: those scenarios run and pass, the rest are skipped naming the option", async () => {
    const a = stack.pki.clients["participant-a"]!;
    const out = join(dir, "one-client");
    const run = await cli([...target(), "--client-cert", a.chain, "--client-key", a.key, "--token-file", join(dir, "a.jwt"), "--out", out, "--no-color"]);
    expect(run.err).toBe("");
    const report = JSON.parse(await readFile(join(out, "report.json"), "utf8")) as SuiteResult;
    expect(report.results.filter((r) => r.status === "fail").map((r) => `${r.id}: ${r.message}`)).toEqual([]);
    expect(run.code).toBe(0);
    expect(report.mode).toBe("target");
    const status = (id: string) => report.results.find((r) => r.id === id)!;
    for (const id of ["tls10-refused", "session-resumption-tls12-not-honoured", "bound-token-accepted", "bad-signature-refused", "alg-none-refused", "token-in-query-refused", "interaction-id-missing-rejected"]) {
      expect(status(id).status, id).toBe("pass");
    }
    expect(status("expired-certificate-rejected")).toMatchObject({ status: "skip", message: expect.stringContaining("--pki DIR") });
    expect(status("other-participant-token-refused")).toMatchObject({ status: "skip", message: expect.stringContaining("--client2-cert") });
    expect(status("token-without-cnf-refused")).toMatchObject({ status: "skip", message: expect.stringContaining("--token-issuer-key") });
    expect(status("client-cert-header-format")).toMatchObject({ status: "skip", message: expect.stringContaining("--recorder URL") });
    expect(status("introspection-inactive-refused")).toMatchObject({ status: "skip", message: expect.stringContaining("local stack") });
    expect(status("insufficient-scope-refused")).toMatchObject({ status: "skip", message: expect.stringContaining("--scoped-path P and --scope S") });
    expect(status("idempotency-conflict-422").status).toBe("pass");
    expect(status("limits-participant-429-retry-after")).toMatchObject({ status: "skip", message: expect.stringContaining("--limited-path P") });
    expect(status("limits-global-529-retry-after")).toMatchObject({ status: "skip", message: expect.stringContaining("--overloaded-path P") });
    for (const r of report.results.filter((x) => x.status === "skip")) expect(r.message, r.id).toMatch(/needs |no |not /);
    expect(report.results.filter((r) => r.status === "pass").length).toBeGreaterThanOrEqual(30);
    // Without the recorder, a negative scenario checks the edge's answer and says the backend was not observed.
    expect(status("token-in-query-refused").notes.join(" ")).toContain("backend not observed");
    expect(run.out).toMatch(/Skipped:\n\s+\d+ × needs --pki DIR/);
  });

  it("with the test PKI, the second participant and the recorder: the certificate, Directory and hygiene scenarios run too", async () => {
    const [a, b] = [stack.pki.clients["participant-a"]!, stack.pki.clients["participant-b"]!];
    await writeFile(join(dir, "b.jwt"), await stack.environment.boundToken!("participant-b"));
    const out = join(dir, "full");
    const run = await cli([
      ...target(),
      ...["--client-cert", a.chain, "--client-key", a.key, "--token-file", join(dir, "a.jwt")],
      ...["--client2-cert", b.chain, "--client2-key", b.key, "--token2-file", join(dir, "b.jwt")],
      ...["--pki", inject("pkiDir"), "--recorder", stack.recorder.controlUrl, "--out", out, "--no-color"],
      ...["--limited-path", LOCAL_LIMITED_PATHS.participant, "--overloaded-path", LOCAL_LIMITED_PATHS.global],
    ]);
    const report = JSON.parse(await readFile(join(out, "report.json"), "utf8")) as SuiteResult;
    expect(report.results.filter((r) => r.status === "fail").map((r) => `${r.id}: ${r.message}`)).toEqual([]);
    expect(run.code).toBe(0);
    const status = (id: string) => report.results.find((r) => r.id === id)!.status;
    for (const id of ["expired-certificate-rejected", "pending-organisation-rejected", "other-participant-token-refused", "spoofed-certificate-headers-stripped-on-mtls", "interleaved-clients-isolated", "client-cert-header-format", "idempotency-replay-byte-identical", "limits-participant-429-retry-after", "limits-global-529-retry-after"]) {
      expect(status(id), id).toBe("pass");
    }
    expect(report.results.find((r) => r.id === "token-in-query-refused")!.notes).toEqual([]);
  });

  it("every report says what it tested: the deployment's URL, the commit, and a fingerprint of the options given that holds no key or token", async () => {
    const [a, b] = [stack.pki.clients["participant-a"]!, stack.pki.clients["participant-b"]!];
    const token = await readFile(join(dir, "a.jwt"), "utf8");
    const options = (client: typeof a) => [...target(), "--client-cert", client.chain, "--client-key", client.key, "--token-file", join(dir, "a.jwt"), "--only", "tls13-accepted", "--no-color"];
    const run = async (name: string, args: string[], env: Record<string, string> = {}) => {
      const out = join(dir, name);
      const r = await cli([...args, "--out", out], env);
      expect(r.code, r.err).toBe(0);
      const read = (file: string) => readFile(join(out, file), "utf8");
      return { ...r, json: await read("report.json"), junit: await read("junit.xml"), html: await read("report.html") };
    };
    const given = await run("provenance-given", options(a), { OFB_EDGE_COMMIT: "ABCDEF0123456789" });
    const checkout = await run("provenance-checkout", options(a));
    const other = await run("provenance-other", options(b));

    const url = `https://127.0.0.1:${stack.environment.target.port}`;
    const statement = `target: tests the deployment at ${url}`;
    const report = JSON.parse(given.json) as SuiteResult;
    expect(report).toMatchObject({ mode: "target", target: url, protocol: "http1.1", commit: { id: "abcdef0123456789", source: "OFB_EDGE_COMMIT" } });
    expect(report.scope).toContain(statement);
    expect(report.configuration.sha256).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(report.configuration.fingerprinted).toMatchObject({
      target: url,
      servername: "localhost",
      clients: { "participant-a": a.thumbprint },
      tokens: { "participant-a": true, "participant-b": false },
      paths: { accounts: "/open-banking/accounts/v2/accounts" },
    });
    for (const secret of [token.trim(), (await readFile(a.key, "utf8")).split("\n")[1]!]) {
      for (const text of [given.json, given.junit, given.html, given.out]) expect(text).not.toContain(secret);
    }
    for (const text of [given.junit, given.html, given.out]) {
      expect(text).toContain(statement);
      expect(text).toContain(report.configuration.sha256);
      expect(text).toContain("abcdef0123456789");
      expect(text).toContain(url);
    }
    expect(given.junit).toContain('<property name="ofb-edge.mode" value="target"/>');

    // Without OFB_EDGE_COMMIT, the checkout's HEAD; the same options give the same fingerprint, other ones another.
    const fromCheckout = JSON.parse(checkout.json) as SuiteResult;
    expect(fromCheckout.commit).toMatchObject({ id: execFileSync("git", ["rev-parse", "HEAD"], { cwd: packageRoot(), encoding: "utf8" }).trim(), source: "git" });
    expect(fromCheckout.configuration.sha256).toBe(report.configuration.sha256);
    const otherReport = JSON.parse(other.json) as SuiteResult;
    expect(otherReport.configuration.sha256).not.toBe(report.configuration.sha256);
    expect(otherReport.configuration.fingerprinted).toMatchObject({ clients: { "participant-a": b.thumbprint } });

    expect(await cli(options(a), { OFB_EDGE_COMMIT: "main" })).toMatchObject({ code: 2, err: expect.stringContaining("OFB_EDGE_COMMIT must be a git commit id") });
  });

  it("with participant-a's message signing key and the bank's published keys: the signed-message scenarios run and pass", async () => {
    const a = stack.pki.clients["participant-a"]!;
    const key = stack.pki.signingKeys["participant-a"]!;
    const bank = stack.pki.bank.organisationId;
    const out = join(dir, "messages");
    const signed = ["--signing-key", key.key, "--signing-kid", key.kid, "--signed-path", stack.environment.messages!.path, "--public-base-url", stack.environment.messages!.audience("")];
    const run = await cli([
      ...target(),
      ...["--client-cert", a.chain, "--client-key", a.key, "--token-file", join(dir, "a.jwt")],
      ...signed,
      ...["--bank-jwks", join(stack.pki.directory.keystore, bank, "application.jwks"), "--bank-organisation-id", bank],
      ...["--recorder", stack.recorder.controlUrl, "--only", "messages", "--out", out, "--no-color"],
    ]);
    expect(run.code, run.err).not.toBe(2);
    const report = JSON.parse(await readFile(join(out, "report.json"), "utf8")) as SuiteResult;
    // (The area's idempotency and limits scenarios have their own test: without --limited-path/--overloaded-path the limits ones skip.)
    const signing = report.results.filter((r) => r.id.startsWith("message-") || r.id === "response-signed-for-caller");
    expect(signing.filter((r) => r.status !== "pass").map((r) => `${r.id}: ${r.status} ${r.message}`)).toEqual([]);
    expect(run.code).toBe(0);
    expect(signing).toHaveLength(7);
    const response = report.results.find((r) => r.id === "response-signed-for-caller")!;
    expect(response.checks).toContain("the response signature verifies with the bank's published key");
    // Without the bank's keys the response scenario is skipped, naming the options; the others still run.
    const partial = join(dir, "messages-no-bank");
    await cli([...target(), "--client-cert", a.chain, "--client-key", a.key, "--token-file", join(dir, "a.jwt"), ...signed, "--only", "messages", "--out", partial, "--no-color"]);
    const second = JSON.parse(await readFile(join(partial, "report.json"), "utf8")) as SuiteResult;
    expect(second.results.find((r) => r.id === "response-signed-for-caller")).toMatchObject({ status: "skip", message: expect.stringContaining("--bank-jwks FILE") });
    expect(second.results.find((r) => r.id === "message-jti-replay-refused")!.status).toBe("pass");
    // Half of a pair is refused before anything runs.
    expect(await cli([...target(), "--signing-key", key.key])).toMatchObject({ code: 2, err: expect.stringContaining("--signing-key and --signing-kid go together") });
  });

  it("refuses what it cannot use with exit status 2: a non-https target, half a key pair, an --only that matches nothing", async () => {
    expect(await cli(["--target", "http://127.0.0.1:1"])).toMatchObject({ code: 2, err: expect.stringContaining("must be an https:// URL") });
    expect(await cli([...target(), "--client-cert", stack.pki.clients["participant-a"]!.chain])).toMatchObject({ code: 2, err: expect.stringContaining("give both the certificate and the key") });
    expect(await cli([...target(), "--only", "nothing-like-this"])).toMatchObject({ code: 2, err: expect.stringContaining("matches no area or scenario") });
    expect(await cli(["--bogus"])).toMatchObject({ code: 2, err: expect.stringContaining("Usage: ofb-edge conformance") });
  });

  it("a target nothing answers on: every scenario that needs the edge fails, and the exit status is 1", async () => {
    const out = join(dir, "down");
    const run = await cli(["--target", "https://127.0.0.1:1", "--only", "tls13-accepted,no-certificate-rejected", "--out", out, "--no-color"]);
    expect(run.code).toBe(1);
    const report = JSON.parse(await readFile(join(out, "report.json"), "utf8")) as SuiteResult;
    expect(report.counts).toMatchObject({ fail: 2, total: 2 });
  });
});
