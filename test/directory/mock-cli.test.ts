import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { request } from "undici";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { runDirectoryMock } from "../../src/cli/directory-mock.js";
import { loadTestPki, type TestPkiManifest } from "../../src/pki/test-pki/index.js";

function capture() {
  const stdout: string[] = [];
  const stderr: string[] = [];
  let onLine = () => {};
  const io = {
    stdout: (s: string) => {
      stdout.push(s);
      onLine();
    },
    stderr: (s: string) => void stderr.push(s),
  };
  /** Resolves once stdout holds a line matching `pattern`. */
  const waitFor = (pattern: RegExp) =>
    new Promise<string>((done) => {
      const check = () => {
        const line = stdout.find((l) => pattern.test(l));
        if (line !== undefined) done(line);
      };
      onLine = check;
      check();
    });
  return { io, stdout, stderr, waitFor };
}

describe("ofb-edge directory mock", () => {
  let pki: TestPkiManifest;
  let fixture: string;

  beforeAll(async () => {
    pki = await loadTestPki(inject("pkiDir"));
    fixture = dirname(pki.directory.participants);
  });

  it("serves the fixture on --port 0, prints its URLs, and stops cleanly when told to", async () => {
    const { io, stdout, stderr, waitFor } = capture();
    const stop = new AbortController();
    const exit = runDirectoryMock(["--fixture", fixture, "--port", "0"], io, { signal: stop.signal });
    const participantsLine = await waitFor(/^ {2}participants /);
    const participantsUrl = participantsLine.trim().split(/\s+/)[1]!;
    expect(participantsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/participants$/);
    expect(stdout).toContain(`Mock OFB Directory serving ${fixture} (TEST ONLY)`);
    expect(stdout).toContain(`  keystore      ${participantsUrl.replace(/participants$/, "keystore/")}`);

    const a = pki.clients["participant-a"]!;
    const jwks = await request(participantsUrl.replace(/participants$/, `keystore/${a.organisationId}/${a.softwareStatementId}/transport.jwks`));
    expect(jwks.statusCode).toBe(200);
    expect(((await jwks.body.json()) as { keys: unknown[] }).keys).toHaveLength(1);
    const res = await request(participantsUrl);
    expect(res.statusCode).toBe(200);
    await res.body.dump();

    stop.abort();
    expect(await exit).toBe(0);
    expect(stdout.at(-1)).toBe("Mock OFB Directory stopped.");
    expect(stderr).toEqual([]);
    await expect(request(participantsUrl)).rejects.toThrow();
  });

  it("answers --help with the usage and 0", async () => {
    const { io, stdout } = capture();
    expect(await runDirectoryMock(["--help"], io)).toBe(0);
    expect(stdout.join("\n")).toMatch(/^Usage: ofb-edge directory mock \[--fixture DIR\] \[--host H\] \[--port N\]/);
  });

  it.each([
    ["an unknown option", ["--bogus"], /Unknown option '--bogus'/],
    ["a positional argument", ["serve"], /Unexpected argument 'serve'/],
    ["--port without a value", ["--port"], /Option '--port <value>' argument missing/],
    ["a non-numeric --port", ["--port", "http"], /--port must be an integer from 0 to 65535/],
    ["a negative --port", ["--port=-1"], /--port must be an integer from 0 to 65535/],
    ["a --port over 65535", ["--port", "65536"], /--port must be an integer from 0 to 65535/],
  ])("returns 2 with the usage for %s", async (_case, argv, message) => {
    const { io, stderr } = capture();
    expect(await runDirectoryMock(argv, io)).toBe(2);
    expect(stderr.join("\n")).toMatch(message);
    expect(stderr.join("\n")).toContain("Usage: ofb-edge directory mock");
  });

  it("returns 1 with a clear message when the fixture folder has no participants.json", async () => {
    const empty = await mkdtemp(join(tmpdir(), "ofb-mock-cli-"));
    const { io, stderr } = capture();
    expect(await runDirectoryMock(["--fixture", empty, "--port", "0"], io)).toBe(1);
    expect(stderr).toEqual([`ofb-edge directory mock: no participants.json in ${empty}: point --fixture at the directory/ folder written by 'ofb-edge pki init'`]);
    await rm(empty, { recursive: true });
  });

  it("returns 1 when the port is already taken", async () => {
    const busy = createServer();
    await new Promise<void>((done) => busy.listen(0, "127.0.0.1", () => done()));
    const { port } = busy.address() as AddressInfo;
    const { io, stderr } = capture();
    try {
      expect(await runDirectoryMock(["--fixture", fixture, "--port", String(port)], io)).toBe(1);
      expect(stderr.join("\n")).toMatch(/EADDRINUSE/);
    } finally {
      await new Promise<void>((done) => busy.close(() => done()));
    }
  });
});
