import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { startMockDirectory, type MockDirectory } from "../directory/mock.js";

type Io = { stdout: (s: string) => void; stderr: (s: string) => void };

export const USAGE = `Usage: ofb-edge directory mock [--fixture DIR] [--host H] [--port N]

  --fixture DIR   the directory/ folder written by 'ofb-edge pki init' (default .ofb-edge/pki/directory); the
                  CRLs of the test PKI around it are served too, where its certificates say (/crl/<ca>.crl)
  --host H        address to listen on (default 127.0.0.1)
  --port N        port to listen on, 0 for any free port (default 8480, the test PKI's keystoreBaseUrl)`;

const DEFAULTS = { fixture: ".ofb-edge/pki/directory", host: "127.0.0.1", port: 8480 };

/**
 * `ofb-edge directory mock`: serves the test PKI's Directory fixture (`/participants`, `/roles`, `/keystore/…`) and
 * the PKI's CRLs (`/crl/<ca>.crl`)
 * until SIGTERM or SIGINT, or until `options.signal` aborts (tests).
 *
 * @param argv the arguments after `directory mock`.
 * @returns 0 after a clean stop, 1 when the fixture is missing or the port cannot be bound, 2 on a usage error.
 */
export async function runDirectoryMock(argv: string[], io: Io, options: { signal?: AbortSignal } = {}): Promise<number> {
  let values: { fixture?: string; host?: string; port?: string; help?: boolean };
  try {
    values = parseArgs({
      args: argv,
      options: { fixture: { type: "string" }, host: { type: "string" }, port: { type: "string" }, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    // parseArgs names the offending option or positional in its message (ERR_PARSE_ARGS_*).
    io.stderr(`ofb-edge directory mock: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    io.stdout(USAGE);
    return 0;
  }
  const port = values.port === undefined ? DEFAULTS.port : Number(values.port);
  if (!/^\d{1,5}$/.test(values.port ?? "0") || port > 65535) {
    io.stderr(`ofb-edge directory mock: --port must be an integer from 0 to 65535\n\n${USAGE}`);
    return 2;
  }
  const fixtureDir = resolve(values.fixture ?? DEFAULTS.fixture);

  let mock: MockDirectory;
  try {
    mock = await startMockDirectory({ fixtureDir, host: values.host ?? DEFAULTS.host, port });
  } catch (err) {
    io.stderr(`ofb-edge directory mock: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  io.stdout(`Mock OFB Directory serving ${fixtureDir} (TEST ONLY)`);
  io.stdout(`  participants  ${mock.participantsUrl}`);
  io.stdout(`  roles         ${mock.url}/roles`);
  io.stdout(`  keystore      ${mock.keystoreUrl}`);
  const crls = Object.values(mock.crlUrls).flat();
  if (crls.length > 0) io.stdout(`  crls          ${crls.length} CRLs of the test PKI, e.g. ${crls[0]}`);
  io.stdout("Stop with Ctrl+C (SIGINT) or SIGTERM.");

  await untilStopped(options.signal);
  await mock.close();
  io.stdout("Mock OFB Directory stopped.");
  return 0;
}

function untilStopped(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((done) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      signal?.removeEventListener("abort", stop);
      done();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    if (signal?.aborted) stop();
    else signal?.addEventListener("abort", stop, { once: true });
  });
}
