import { reportConfigError } from "./config-error.js";
import { loadProfiles, type LoadedProfiles } from "../profiles/load.js";
import { profileJsonSchema } from "../profiles/schema.js";

type Io = { stdout: (s: string) => void; stderr: (s: string) => void };

export const PROFILES_USAGE = `Usage: ofb-edge profiles check [FILE ...]   validate the built-in profiles and the given files
       ofb-edge profiles list                 the built-in profiles
       ofb-edge profiles schema               print the profile JSON Schema`;

/** `ofb-edge profiles …`: profile files are checked exactly as start-up checks them. */
export async function runProfiles(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "schema") {
    io.stdout(JSON.stringify(profileJsonSchema(), null, 2));
    return 0;
  }
  if (sub !== "check" && sub !== "list") {
    io.stderr(`ofb-edge profiles: ${sub === undefined ? "missing sub-command" : `unknown sub-command '${sub}'`}\n\n${PROFILES_USAGE}`);
    return 2;
  }
  let loaded: LoadedProfiles;
  try {
    loaded = loadProfiles({ files: sub === "check" ? rest : [] });
  } catch (err) {
    return reportConfigError(err, io);
  }
  for (const [name, file] of loaded.sources) io.stdout(`${sub === "check" ? "valid: " : ""}${name}  (${file})`);
  return 0;
}
