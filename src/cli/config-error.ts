import { ConfigError } from "../errors.js";

type Io = { stdout: (s: string) => void; stderr: (s: string) => void };

/** Prints a {@link ConfigError} as the CLI does everywhere (the file, then each JSON path and problem) and returns exit status 1; rethrows anything else. */
export function reportConfigError(err: unknown, io: Io): number {
  if (!(err instanceof ConfigError)) throw err;
  io.stderr(`${err.file}: invalid`);
  for (const i of err.issues) io.stderr(`  ${i.path || "(root)"}: ${i.message}`);
  return 1;
}
