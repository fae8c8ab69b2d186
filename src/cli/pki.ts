import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { generateTestPki, TestPkiExistsError, type TestPkiManifest } from "../pki/test-pki/index.js";

type Io = { stdout: (s: string) => void; stderr: (s: string) => void };

export const USAGE = `Usage: ofb-edge pki init [--out DIR] [--force] [--crl-base-url URL] [--hostname NAME]...

  --out DIR            output directory (default .ofb-edge/pki)
  --force              replace an existing test PKI in DIR
  --crl-base-url URL   base URL written into CRL distribution points (default http://127.0.0.1:8480/crl/)
  --hostname NAME      extra DNS name for the server certificate (repeatable; localhost is always included)`;

const DEFAULT_OUT = ".ofb-edge/pki";

/**
 * `ofb-edge pki init`: generates the local test PKI and Directory fixture (src/pki/test-pki).
 *
 * @param argv the arguments after `pki`, e.g. `["init", "--out", "dir"]`.
 * @returns 0 on success, 1 when generation fails (e.g. the directory already holds a PKI), 2 on a usage error.
 */
export async function runPki(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "--help" || sub === "-h" || sub === "help") {
    io.stdout(USAGE);
    return 0;
  }
  if (sub !== "init") {
    io.stderr(`ofb-edge pki: ${sub === undefined ? "missing sub-command" : `unknown sub-command '${sub}'`} (expected 'init')\n\n${USAGE}`);
    return 2;
  }
  let values: { out?: string; force?: boolean; "crl-base-url"?: string; hostname?: string[] };
  try {
    const parsed = parseArgs({
      args: rest,
      options: {
        out: { type: "string" },
        force: { type: "boolean" },
        "crl-base-url": { type: "string" },
        hostname: { type: "string", multiple: true },
      },
      strict: true,
      allowPositionals: false,
    });
    values = parsed.values;
  } catch (err) {
    // parseArgs names the offending option or positional in its message (ERR_PARSE_ARGS_*).
    io.stderr(`ofb-edge pki init: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }

  const out = values.out ?? DEFAULT_OUT;
  const started = performance.now();
  let manifest: TestPkiManifest;
  try {
    manifest = await generateTestPki({
      out,
      force: values.force === true,
      hostnames: values.hostname ?? [],
      ...(values["crl-base-url"] === undefined ? {} : { crlBaseUrl: values["crl-base-url"] }),
    });
  } catch (err) {
    // In the command line's words: the option is --force (`npm start` writes its test PKI to .ofb-edge/pki, the default --out).
    const message = err instanceof TestPkiExistsError ? `${err.manifestPath} already exists (a test PKI); pass --force to replace it` : err instanceof Error ? err.message : String(err);
    io.stderr(`ofb-edge pki init: ${message}`);
    return 1;
  }
  printSummary(manifest, out, performance.now() - started, io);
  return 0;
}

function printSummary(manifest: TestPkiManifest, out: string, elapsedMs: number, io: Io): void {
  const dir = resolve(out);
  const rel = (path: string) => relative(dir, path);
  io.stdout(`Test PKI written to ${dir} in ${(elapsedMs / 1000).toFixed(1)} s (TEST ONLY: never trust it in production).`);
  io.stdout(`  trust anchors  ${rel(manifest.trustAnchors)} (the root; transport root: ${rel(manifest.ca.root.cert)}), ${rel(manifest.anchorFiles.bundle)} (root + ACs), ${rel(manifest.anchorFiles.allRoots)} (every root)`);
  io.stdout(`  server         ${rel(manifest.server.cert)} + ${rel(manifest.server.key)} (${manifest.server.hostnames.join(", ")}, 127.0.0.1, ::1)`);
  io.stdout(`  directory      ${rel(manifest.directory.participants)}, ${rel(manifest.directory.roles)}, ${rel(manifest.directory.keystore)}/`);
  io.stdout("  clients        (chain.pem + key.pem; expected edge outcome)");
  const entries = Object.entries(manifest.clients);
  const width = Math.max(...entries.map(([name]) => name.length));
  for (const [name, client] of entries) {
    io.stdout(`    ${name.padEnd(width)}  ${client.expect.padEnd(36)}  ${rel(client.chain)}`);
  }
  const a = manifest.clients["participant-a"];
  if (a !== undefined) {
    const shown = (path: string) => join(out, rel(path));
    io.stdout(
      `Hint: on the edge, tls.trustAnchors ${shown(manifest.trustAnchors)} and policy.transportRoots ${shown(manifest.ca.root.cert)}; clients send chain.pem (leaf + AC), e.g. curl --cacert ${shown(manifest.trustAnchors)} --cert ${shown(a.chain)} --key ${shown(a.key)} https://localhost:8443/open-banking/...`,
    );
  }
}
