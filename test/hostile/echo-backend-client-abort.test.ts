import { spawn, type ChildProcess } from "node:child_process";
import { request } from "node:http";
import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

/**
 * `ofb-edge dev echo-backend`, the embedded default's backend, as a spawned process: a client that goes away in the
 * middle of its body must not take the process down (an unhandled rejection would, and every later request through
 * the edge would get 502).
 */

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

let cli: ChildProcess;
let port: number;
let stderr = "";

beforeAll(async () => {
  cli = spawn(process.execPath, ["bin/ofb-edge.js", "dev", "echo-backend", "--port", "0"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  cli.stderr!.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
  let stdout = "";
  cli.stdout!.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
  await vi.waitFor(
    () => {
      if (cli.exitCode !== null) throw new Error(`echo backend exited early (${cli.exitCode}): ${stderr}`);
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout);
      expect(m).not.toBeNull();
      port = Number(m![1]);
    },
    { timeout: 15_000, interval: 50 },
  );
});

afterAll(() => {
  if (cli?.exitCode === null && cli.signalCode === null) cli.kill("SIGKILL");
});

function echo(body: string): Promise<{ status: number; json: { received: { method: string; body: { bytes: number } } } }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method: "POST", path: "/open-banking/echo", headers: { "content-type": "application/json" } }, (res) => {
      let text = "";
      res.on("data", (d: Buffer) => (text += d.toString("utf8")));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("ofb-edge dev echo-backend under clients that abort", () => {
  it("survives clients that close mid-body, and keeps answering", async () => {
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve) => {
        const socket = connect(port, "127.0.0.1", () => {
          socket.write("POST /open-banking/echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n{\"partial\":");
          setTimeout(() => socket.destroy(), 50);
        });
        socket.on("error", () => undefined);
        socket.on("close", () => resolve());
      });
    }
    // Give an unhandled rejection the time to kill the process.
    await new Promise((r) => setTimeout(r, 300));
    expect(cli.exitCode).toBeNull();
    expect(stderr).toBe("");
    const res = await echo('{"ok":true}');
    expect(res.status).toBe(200);
    expect(res.json.received).toMatchObject({ method: "POST", body: { bytes: 11 } });
  });
});
