import "reflect-metadata";
import { parseArgs } from "node:util";
import { ConfigError } from "../errors.js";
import { packageInfo } from "../package-root.js";
import { isEdgeWorker, runWorker, serve } from "../main.js";
import { runConfig } from "./config.js";
import { CONFORMANCE_USAGE, runConformance } from "./conformance.js";
import { runDeny } from "./deny.js";
import { runDev } from "./dev.js";
import { runDirectory } from "./directory.js";
import { runPki } from "./pki.js";
import { runTrust } from "./trust.js";
import { runInspect } from "./inspect.js";
import { runProfiles } from "./profiles.js";

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
  help                           this text

Environment: see README "Configuration reference".`;

const io = { stdout: (s: string) => process.stdout.write(`${s}\n`), stderr: (s: string) => process.stderr.write(`${s}\n`) };

async function main(argv: string[]): Promise<number> {
  if (isEdgeWorker(process.env)) {
    await runWorker(process.env);
    return -1;
  }
  const [command, ...rest] = argv;
  switch (command) {
    case "serve": {
      const { values } = parseArgs({ args: rest, options: { config: { type: "string", short: "c" } }, strict: true });
      return serve({ configFile: values.config, env: process.env, out: io.stdout });
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
      if (rest.includes("--help") || rest.includes("-h")) {
        io.stdout(CONFORMANCE_USAGE);
        return 0;
      }
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
