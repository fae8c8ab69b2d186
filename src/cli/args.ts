import { parseArgs, type ParseArgsConfig } from "node:util";

/**
 * `node:util` `parseArgs`, except that an option taking a value takes the next argument whatever it looks like, as
 * getopt does: `--thumbprint -Xb3…` is that thumbprint. A base64url x5t#S256 (RFC 8705 §3.1) begins with `-` once
 * in 64, and `parseArgs` alone refuses such a value as ambiguous. `--` still ends the options.
 */
export function parseCommandLine<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  const longNames = new Map<string, string>();
  for (const [name, option] of Object.entries(config.options ?? {})) {
    if (option.type !== "string") continue;
    longNames.set(`--${name}`, name);
    if (option.short !== undefined) longNames.set(`-${option.short}`, name);
  }
  const args = config.args ?? [];
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      joined.push(...args.slice(i));
      break;
    }
    const name = longNames.get(arg);
    if (name !== undefined && i + 1 < args.length) {
      joined.push(`--${name}=${args[++i]!}`);
      continue;
    }
    joined.push(arg);
  }
  // Only the arguments change: the result has the shape `config` describes.
  return parseArgs({ ...config, args: joined }) as ReturnType<typeof parseArgs<T>>;
}
