import { parseArgs } from "node:util";
import { loadConfigFile } from "../config/load.js";
import { configJsonSchema } from "../config/json-schema.js";
import { reportConfigError } from "./config-error.js";
import { loadProfiles } from "../profiles/load.js";
import { routeProfiles } from "../profiles/select.js";
import { checkTlsFiles } from "../tls/material.js";

type Io = { stdout: (s: string) => void; stderr: (s: string) => void };

export const USAGE = `Usage: ofb-edge config check --config FILE   validate a configuration and every file it names (nothing starts)
       ofb-edge config schema                print the configuration's JSON Schema`;

/**
 * `ofb-edge config check --config FILE`: validates the file and every file it names (certificates, keys,
 * trust anchors, transport roots) without starting anything. `ofb-edge config schema`: prints the JSON Schema.
 */
export async function runConfig(argv: string[], io: Io, env: Readonly<Record<string, string | undefined>>): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "schema") {
    io.stdout(JSON.stringify(configJsonSchema(), null, 2));
    return 0;
  }
  if (sub !== "check") {
    io.stderr(`ofb-edge config: ${sub === undefined ? "missing sub-command" : `unknown sub-command '${sub}'`}\n\n${USAGE}`);
    return 2;
  }
  let values: { config?: string | undefined };
  try {
    values = parseArgs({ args: rest, options: { config: { type: "string", short: "c" } }, strict: true }).values;
  } catch (err) {
    // parseArgs names the offending option or positional (ERR_PARSE_ARGS_*).
    io.stderr(`ofb-edge config check: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }
  if (!values.config) {
    io.stderr("ofb-edge config check: --config FILE is required");
    return 2;
  }
  try {
    const config = loadConfigFile(values.config, env);
    checkTlsFiles(config, values.config);
    const profiles = loadProfiles({ files: config.headerProfiles?.files ?? [] });
    config.routes.forEach((r, i) => routeProfiles(r, i, profiles, values.config!));
    io.stdout(`${values.config}: valid (${config.listeners.length} listener(s), ${config.routes.length} route(s))`);
    return 0;
  } catch (err) {
    return reportConfigError(err, io);
  }
}
