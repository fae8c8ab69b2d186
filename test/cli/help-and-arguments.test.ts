import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { compactVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** The command line as an operator meets it: the real `bin/ofb-edge.js`, spawned (`npm test` builds it first). */

const ROOT = resolve(import.meta.dirname, "../..");
const run = promisify(execFile);

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, ["bin/ofb-edge.js", ...args], { cwd: ROOT, timeout: 20_000 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

/** Every command and sub-command, with the help flag each is asked with (both spellings are covered). */
const COMMANDS: readonly (readonly [string, "--help" | "-h"])[] = [
  ["serve", "--help"],
  ["serve", "-h"],
  ["pki", "-h"],
  ["pki init", "--help"],
  ["trust fetch", "--help"],
  ["config", "--help"],
  ["config check", "-h"],
  ["config schema", "--help"],
  ["directory", "-h"],
  ["directory sync", "--help"],
  ["directory lookup", "-h"],
  ["directory mock", "--help"],
  ["deny", "--help"],
  ["deny add", "-h"],
  ["deny remove", "--help"],
  ["deny list", "--help"],
  ["profiles", "--help"],
  ["profiles check", "-h"],
  ["profiles list", "--help"],
  ["inspect", "--help"],
  ["inspect", "-h"],
  ["conformance", "--help"],
  ["conformance recorder", "-h"],
  ["dev", "--help"],
  ["dev echo-backend", "-h"],
  ["dev sign-request", "--help"],
];

describe("--help and -h", () => {
  let answers: Map<string, Awaited<ReturnType<typeof cli>>>;

  beforeAll(async () => {
    answers = new Map();
    // Four at a time: each is a Node.js start-up.
    for (let i = 0; i < COMMANDS.length; i += 4) {
      await Promise.all(COMMANDS.slice(i, i + 4).map(async ([command, flag]) => answers.set(`${command} ${flag}`, await cli(...command.split(" "), flag))));
    }
  }, 120_000);

  it.each(COMMANDS)("ofb-edge %s %s: its usage on stdout, exit 0", (command, flag) => {
    const answer = answers.get(`${command} ${flag}`)!;
    expect(answer.stderr).toBe("");
    expect(answer.code).toBe(0);
    expect(answer.stdout).toMatch(/^Usage:/);
    expect(answer.stdout).toContain(`ofb-edge ${command.split(" ")[0]}`);
  });

  it("a sub-command with its own usage prints that one", () => {
    expect(answers.get("directory mock --help")!.stdout).toContain("--fixture DIR");
    expect(answers.get("serve --help")!.stdout).toContain("--config FILE");
    expect(answers.get("dev sign-request --help")!.stdout).toContain("--key-file PEM --kid KID --organisation-id ID");
  });
});

describe("argument values", () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ofb-edge-cli-args-"));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("dev sign-request refuses what cannot be signed, naming the option and the rule, and prints nothing on stdout", async () => {
    const answers = await Promise.all([
      cli("dev", "sign-request", "--data", "[1,2]"),
      cli("dev", "sign-request", "--aud", "https://x.test/a", "--path", "/b"),
      cli("dev", "sign-request", "--key-file", join(dir, "k.pem")),
      cli("dev", "sign-request", "--pki", join(dir, "no-pki")),
    ]);
    expect(answers.map((a) => [a.code, a.stdout])).toEqual([[2, ""], [2, ""], [2, ""], [1, ""]]);
    expect(answers[0]!.stderr).toContain("--data must be a JSON object");
    expect(answers[1]!.stderr).toContain("--aud is the whole audience");
    expect(answers[2]!.stderr).toContain("--key-file, --kid and --organisation-id go together");
    expect(answers[3]!.stderr).toContain("ofb-edge dev sign-request: ");
  });

  it("dev sign-request with an operator's own key: a JWS of the given claims, verifiable with the matching public key", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    await writeFile(join(dir, "own.pem"), privateKey.export({ type: "pkcs8", format: "pem" }));
    const org = "7c6f1a0e-5f7e-4d2b-9a3c-1b2c3d4e5f60";
    const answer = await cli("dev", "sign-request", "--key-file", join(dir, "own.pem"), "--kid", "my-kid", "--organisation-id", org, "--aud", "https://api.bank.test/open-banking/payments/v4/pix/payments", "--data", '{"data":{"amount":"1.00"}}');
    expect(answer).toMatchObject({ code: 0, stderr: "" });
    const { payload, protectedHeader } = await compactVerify(answer.stdout.trim(), publicKey, { algorithms: ["PS256"] });
    expect(protectedHeader).toEqual({ alg: "PS256", kid: "my-kid", typ: "JWT" });
    expect(JSON.parse(Buffer.from(payload).toString("utf8"))).toMatchObject({ data: { amount: "1.00" }, iss: org, aud: "https://api.bank.test/open-banking/payments/v4/pix/payments", jti: expect.stringMatching(/^[0-9a-f-]{36}$/) });
  });

  it("pki init over an existing test PKI names the option to pass: --force", async () => {
    await writeFile(join(dir, "manifest.json"), "{}");
    const answer = await cli("pki", "init", "--out", dir);
    expect(answer.code).toBe(1);
    expect(answer.stderr).toContain(`${join(dir, "manifest.json")} already exists (a test PKI); pass --force to replace it`);
    expect(answer.stderr).not.toMatch(/pass force\b/);
  });
});
