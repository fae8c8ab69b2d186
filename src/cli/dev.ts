import { parseArgs } from "node:util";
import { startEchoBackend } from "../dev/echo-backend.js";

type Io = { stdout: (s: string) => void; stderr: (s: string) => void };

export const USAGE = "Usage: ofb-edge dev echo-backend [--host H] [--port N]   (a backend that answers with what it received; not for production)";

/** `ofb-edge dev …`: the development helpers the embedded default runs in-process, as standalone services. */
export async function runDev(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== "echo-backend") {
    io.stderr(`ofb-edge dev: ${sub === undefined ? "missing sub-command" : `unknown sub-command '${sub}'`}\n\n${USAGE}`);
    return 2;
  }
  let values: { host?: string | undefined; port?: string | undefined };
  try {
    values = parseArgs({ args: rest, options: { host: { type: "string" }, port: { type: "string" } }, strict: true }).values;
  } catch (err) {
    io.stderr(`ofb-edge dev echo-backend: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }
  const port = Number(values.port ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    io.stderr(`ofb-edge dev echo-backend: --port must be 0-65535\n\n${USAGE}`);
    return 2;
  }
  const backend = await startEchoBackend({ host: values.host ?? "127.0.0.1", port });
  io.stdout(`echo backend listening on ${backend.url}`);
  await new Promise<void>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  });
  await backend.close();
  return 0;
}
