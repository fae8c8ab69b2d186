import "reflect-metadata";
import { parseArgs } from "node:util";
import { ConfigError } from "../errors.js";
import { packageInfo } from "../package-root.js";
import { isEdgeWorker, runWorker, serve } from "../main.js";
import { runConfig, USAGE as CONFIG_USAGE } from "./config.js";
import { CONFORMANCE_USAGE, runConformance } from "./conformance.js";
import { runDeny, USAGE as DENY_USAGE } from "./deny.js";
import { runDev, USAGE as DEV_USAGE } from "./dev.js";
import { SIGN_REQUEST_USAGE } from "./dev-sign.js";
import { runDirectory, USAGE as DIRECTORY_USAGE } from "./directory.js";
import { USAGE as DIRECTORY_MOCK_USAGE } from "./directory-mock.js";
import { runPki, USAGE as PKI_USAGE } from "./pki.js";
import { runTrust, USAGE as TRUST_USAGE } from "./trust.js";
import { INSPECT_USAGE, runInspect } from "./inspect.js";
import { PROFILES_USAGE, runProfiles } from "./profiles.js";

/** The `ofb-edge` command line: one sub-command per file in src/cli. */
const USAGE = `Usage: ofb-edge <command> [options]

Commands:
  serve [--config FILE]          run the edge (no --config: the embedded default)
  pki init [--out DIR] [--force] generate a local test PKI and Directory fixture
  trust fetch [--source iti-zip|roots-jwks] [--preset icp-brasil|sandbox] [--out FILE]
                                 build the pinned ICP-Brasil v10 transport bundle and its JSON report
  config check --config FILE     validate a configuration and the files it names
  config schema                  print the configuration's JSON Schema
  directory sync --config FILE   fetch the Directory's /participants once into the configured store
  directory lookup <orgId|CNPJ|x5t#S256> --config FILE
  directory mock [--fixture DIR] [--port N]   serve a Directory fixture (the one pki init writes)
  deny add|remove|list --config FILE   the instant deny list (--thumbprint | --organisation | --software-statement)
  profiles check [FILE ...]      validate the built-in header profiles and the given profile files
  profiles list | schema         the built-in profiles; the profile JSON Schema
  inspect CERT.pem [--trust-anchors FILE] [--transport-root SHA256|FILE] [--at INSTANT] [--profile NAME ...]
                                 identity fields, thumbprint, the chain and each certificate's role, the policy
                                 verdict (at an instant) and the headers each profile would send (see --help)
  conformance [--target URL …]  the conformance suite, locally (default) or against a deployment;
                                 reports in reports/conformance (see 'ofb-edge conformance --help')
  conformance recorder           the recording backend for running the suite against a deployment
  dev echo-backend [--port N]    a backend that answers with what it received (development only)
  dev authorization-server [--port N] [--issuer URL]
                                 an authorization-server stub that writes a token bound to participant-a
                                 (development only; see 'ofb-edge dev --help')
  dev sign-request [--path P] [--data JSON]
                                 print a participant's signed payment message (JWS) for curl (development only)
  help                           this text
  <command> --help               a command's usage (also -h)

Environment: see README "Configuration reference".`;

const SERVE_USAGE = `Usage: ofb-edge serve [--config FILE]

Runs the edge until SIGTERM or SIGINT (SIGHUP reloads). Without --config: the embedded default (a local test PKI,
a mock Directory, an authorization-server stub and an echo backend). The JSON log goes to stdout; where it listens
is also said on stderr.

  -c, --config FILE   the configuration file (README "Configuration reference"; check it with 'ofb-edge config check')
  -h, --help          this text`;

/** Each command's usage; a sub-command with its own is named "command sub-command". */
const COMMAND_USAGE: ReadonlyMap<string, string> = new Map([
  ["serve", SERVE_USAGE],
  ["pki", PKI_USAGE],
  ["trust", TRUST_USAGE],
  ["config", CONFIG_USAGE],
  ["directory", DIRECTORY_USAGE],
  ["directory mock", DIRECTORY_MOCK_USAGE],
  ["deny", DENY_USAGE],
  ["profiles", PROFILES_USAGE],
  ["inspect", INSPECT_USAGE],
  ["conformance", CONFORMANCE_USAGE],
  ["dev", DEV_USAGE],
  ["dev sign-request", SIGN_REQUEST_USAGE],
]);

/** `--help` or `-h` among the arguments (before a `--`, after which everything is a value). */
function asksForHelp(args: readonly string[]): boolean {
  for (const arg of args) {
    if (arg === "--") return false;
    if (arg === "--help" || arg === "-h") return true;
  }
  return false;
}

const io = { stdout: (s: string) => process.stdout.write(`${s}\n`), stderr: (s: string) => process.stderr.write(`${s}\n`) };

async function main(argv: string[]): Promise<number> {
  if (isEdgeWorker(process.env)) {
    await runWorker(process.env);
    return -1;
  }
  const [command, ...rest] = argv;
  // Every command and sub-command answers --help with its usage, before any of its own checks.
  const usage = command === undefined ? undefined : (COMMAND_USAGE.get(`${command} ${rest[0]}`) ?? COMMAND_USAGE.get(command));
  if (usage !== undefined && asksForHelp(rest)) {
    io.stdout(usage);
    return 0;
  }
  switch (command) {
    case "serve": {
      const { values } = parseArgs({ args: rest, options: { config: { type: "string", short: "c" } }, strict: true });
      return serve({ configFile: values.config, env: process.env, out: io.stderr });
    }
    case "pki":
      return runPki(rest, io);
    case "config":
      return runConfig(rest, io, process.env);
    case "directory":
      return runDirectory(rest, io, process.env);
    case "dev":
      return runDev(rest, io);
    case "profiles":
      return runProfiles(rest, io);
    case "trust":
      return runTrust(rest, io);
    case "deny":
      return runDeny(rest, io, process.env);
    case "inspect":
      return runInspect(rest, io);
    case "conformance":
      return runConformance(rest, io, { env: process.env, stdout: process.stdout });
    case "--version":
    case "version": {
      io.stdout(packageInfo().version);
      return 0;
    }
    case undefined:
    case "help":
    case "--help":
    case "-h":
      io.stdout(USAGE);
      return command === undefined ? 2 : 0;
    default:
      io.stderr(`ofb-edge: unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      io.stderr(`ofb-edge: configuration error in ${err.file}`);
      for (const i of err.issues) io.stderr(`  ${i.path || "(root)"}: ${i.message}`);
    } else if (err instanceof TypeError && (err as NodeJS.ErrnoException).code?.startsWith("ERR_PARSE_ARGS")) {
      io.stderr(`ofb-edge: ${err.message}\n\n${USAGE}`);
      process.exitCode = 2;
      return;
    } else {
      io.stderr(`ofb-edge: ${err instanceof Error ? err.message : String(err)}`);
    }
    process.exitCode = 1;
  },
);
