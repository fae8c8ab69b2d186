import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { promisify } from "node:util";

/**
 * The README's commands, read from README.md itself so that a test fails when the README and the product disagree:
 * the Quick start's requests with the answer each comment promises, and the commands that start the production
 * shape natively.
 */

const ROOT = resolve(import.meta.dirname, "../..");

/** What a README comment promises for the request below it: a refusal's status and code, a success's status alone. */
export type Promised = { readonly status: number; readonly code: string } | { readonly status: number; readonly code?: undefined } | "handshake-fails";

export interface ReadmeRequest {
  /** The comment above the curl command (its first line). */
  readonly comment: string;
  readonly expect: Promised;
  /** The shell variable assignments of its block (`P=… T=…`). */
  readonly setup: string;
  /** The curl command, continuation lines joined. */
  readonly command: string;
}

/** The text of the README section whose heading is `heading` (up to the next heading of the same or a higher level). */
export function readmeSection(heading: string): string {
  const lines = readFileSync(resolve(ROOT, "README.md"), "utf8").split("\n");
  const level = /^#+/.exec(heading)![0].length;
  const section: string[] = [];
  let inside = false;
  let fenced = false;
  for (const line of lines) {
    if (line.startsWith("```")) fenced = !fenced;
    // A `# comment` in a code block is not a heading.
    const found = !fenced && /^(#+) /.exec(line);
    if (found && inside && found[1]!.length <= level) break;
    if (inside) section.push(line);
    if (line === heading && !fenced) inside = true;
  }
  if (!inside) throw new Error(`README.md has no heading '${heading}'`);
  return section.join("\n");
}

/** The logical lines (continuations joined) of every ```sh block of `section`. */
function shellBlocks(section: string): string[][] {
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.replace(/\\\n\s*/g, "").split("\n").filter((l) => l.trim() !== ""));
}

/** Every curl request of a README section (default the Quick start), with the answer its comment promises. */
export function readmeRequests(heading = "## Quick start"): ReadmeRequest[] {
  const requests: ReadmeRequest[] = [];
  for (const lines of shellBlocks(readmeSection(heading))) {
    let setup = "";
    let comment: string[] = [];
    for (const line of lines) {
      if (line.startsWith("#")) comment.push(line.replace(/^#\s*/, ""));
      else if (/^[A-Z]+=/.test(line)) setup = line;
      else if (line.startsWith("curl ")) {
        const said = comment.join(" ");
        const status = /→ (\d{3})(?: ([A-Z][A-Z0-9_]+))?/.exec(said);
        const expect: Promised | undefined = status ? (status[2] ? { status: Number(status[1]), code: status[2] } : { status: Number(status[1]) }) : /→ the handshake fails/.test(said) ? "handshake-fails" : undefined;
        if (expect === undefined) throw new Error(`README.md: no "→ <status> <CODE>" promised for: ${line}`);
        requests.push({ comment: comment[0] ?? "", expect, setup, command: line });
        comment = [];
      }
    }
  }
  return requests;
}

/** The commands of the README's "The production shape, natively" block, without their trailing comments. */
export function readmeProductionCommands(): string[] {
  const [block] = shellBlocks(readmeSection("### The production shape, natively"));
  if (!block) throw new Error("README.md: no command block under 'The production shape, natively'");
  return block.map((line) => line.replace(/\s+#.*$/, ""));
}

export interface CurlResult {
  readonly exitCode: number;
  readonly status: number | null;
  readonly headers: string;
  readonly body: string;
}

/**
 * Runs a README request as a shell would — its block's assignments first, from `cwd` — against `port` instead of
 * 8443, with `--include` so that the status line and fields can be read.
 */
export async function runReadmeRequest(request: Pick<ReadmeRequest, "setup" | "command">, o: { readonly cwd: string; readonly port: number }): Promise<CurlResult> {
  const command = request.command.replaceAll("https://localhost:8443/", `https://localhost:${o.port}/`);
  if (command === request.command) throw new Error(`README.md: a request not sent to https://localhost:8443/: ${request.command}`);
  const script = `${request.setup}\n${command} --silent --show-error --include --max-time 20`;
  const { exitCode, stdout } = await promisify(execFile)("sh", ["-c", script], { cwd: o.cwd }).then(
    (r) => ({ exitCode: 0, stdout: r.stdout }),
    (err: { code?: number; stdout?: string }) => ({ exitCode: err.code ?? -1, stdout: err.stdout ?? "" }),
  );
  const split = stdout.indexOf("\r\n\r\n");
  const headers = split < 0 ? stdout : stdout.slice(0, split);
  const status = /^HTTP\/[\d.]+ (\d{3})/.exec(headers);
  return { exitCode, status: status ? Number(status[1]) : null, headers, body: split < 0 ? "" : stdout.slice(split + 4) };
}

/**
 * The OFB error code of a response body (`errors[0].code`; of its payload when the body is a signed message, a
 * compact JWS), or undefined when it is not an OFB error.
 */
export function errorCode(body: string): string | undefined {
  const jws = /^[\w-]+\.([\w-]+)\.[\w-]*$/.exec(body.trim());
  try {
    return (JSON.parse(jws ? Buffer.from(jws[1]!, "base64url").toString("utf8") : body) as { errors?: { code?: string }[] }).errors?.[0]?.code;
  } catch {
    return undefined;
  }
}
