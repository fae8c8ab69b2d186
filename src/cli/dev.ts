import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { startAuthorizationServerStub } from "../dev/authorization-server.js";
import { DEMO_CLIENT, DEMO_TOKEN_SECONDS, writeDemoToken } from "../dev/demo-token.js";
import { startEchoBackend } from "../dev/echo-backend.js";
import { loadTestPki } from "../pki/test-pki/index.js";
import { runSignRequest } from "./dev-sign.js";

type Io = { stdout: (s: string) => void; stderr: (s: string) => void };

export const USAGE = `Usage: ofb-edge dev <service> [options]   (development services; not for production)

  echo-backend [--host H] [--port N]
      a backend that answers with what it received, and prints one line per request (default 127.0.0.1:8080)
  authorization-server [--host H] [--port N] [--issuer URL] [--pki DIR] [--tokens DIR]
      an OAuth 2.0 authorization server stub: discovery, JWK Set, introspection (default 127.0.0.1:8400). At start
      it writes a ${DEMO_TOKEN_SECONDS / 3600} h access token bound to ${DEMO_CLIENT}'s certificate of the test PKI in --pki (default
      .ofb-edge/pki) to --tokens/${DEMO_CLIENT}.jwt (default .ofb-edge/tokens). --issuer: the issuer it names, when
      the edge reaches it by another address than http://127.0.0.1:<port> (default that address)`;

type Values = { host?: string | undefined; port?: string | undefined; issuer?: string | undefined; pki?: string | undefined; tokens?: string | undefined; help?: boolean | undefined };

/**
 * `ofb-edge dev …`: the development services the embedded default runs in-process, as standalone processes (the
 * README's production shape runs each on its own). Each runs until SIGTERM or SIGINT.
 *
 * @returns 0 after a clean stop, 1 when a service cannot start, 2 on a usage error.
 */
export async function runDev(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "--help" || sub === "-h" || sub === "help") {
    io.stdout(USAGE);
    return 0;
  }
  if (sub === "sign-request") return runSignRequest(rest, io);
  if (sub !== "echo-backend" && sub !== "authorization-server") {
    io.stderr(`ofb-edge dev: ${sub === undefined ? "missing service" : `unknown service '${sub}'`}\n\n${USAGE}`);
    return 2;
  }
  const as = sub === "authorization-server";
  let values: Values;
  try {
    const common = { host: { type: "string" }, port: { type: "string" }, help: { type: "boolean", short: "h" } } as const;
    const more = { ...common, issuer: { type: "string" }, pki: { type: "string" }, tokens: { type: "string" } } as const;
    values = as ? parseArgs({ args: rest, options: more, strict: true, allowPositionals: false }).values : parseArgs({ args: rest, options: common, strict: true, allowPositionals: false }).values;
  } catch (err) {
    // parseArgs names the offending option or positional in its message (ERR_PARSE_ARGS_*).
    io.stderr(`ofb-edge dev ${sub}: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    io.stdout(USAGE);
    return 0;
  }
  const port = Number(values.port ?? (as ? 8400 : 8080));
  if (!/^\d{1,5}$/.test(values.port ?? "0") || port > 65535) {
    io.stderr(`ofb-edge dev ${sub}: --port must be an integer from 0 to 65535\n\n${USAGE}`);
    return 2;
  }
  if (values.issuer !== undefined && !URL.canParse(values.issuer)) {
    io.stderr(`ofb-edge dev ${sub}: --issuer must be a URL (http://host:port), got '${values.issuer.slice(0, 80)}'\n\n${USAGE}`);
    return 2;
  }
  const host = values.host ?? "127.0.0.1";
  let close: () => Promise<void>;
  try {
    close = as ? await startAuthorizationServer(values, host, port, io) : await startEcho(host, port, io);
  } catch (err) {
    io.stderr(`ofb-edge dev ${sub}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  await new Promise<void>((done) => {
    process.once("SIGTERM", done);
    process.once("SIGINT", done);
  });
  await close();
  return 0;
}

async function startEcho(host: string, port: number, io: Io): Promise<() => Promise<void>> {
  const backend = await startEchoBackend({ host, port, onRequest: (r) => io.stdout(`${r.method} ${r.path}`) });
  io.stdout(`echo backend listening on ${backend.url} (TEST ONLY); one line per request received`);
  return backend.close;
}

async function startAuthorizationServer(values: Values, host: string, port: number, io: Io): Promise<() => Promise<void>> {
  // The test PKI first: without it there is no certificate to bind the token to, and nothing is started.
  const pkiDir = resolve(values.pki ?? ".ofb-edge/pki");
  const pki = await loadTestPki(pkiDir).catch((err: unknown) => {
    throw new Error(`no test PKI in ${pkiDir} (run 'ofb-edge pki init' first): ${err instanceof Error ? err.message : String(err)}`);
  });
  const stub = await startAuthorizationServerStub({ host, port, ...(values.issuer !== undefined && { issuer: values.issuer }) });
  try {
    const { file } = await writeDemoToken({ stub, pki, tokensDir: resolve(values.tokens ?? ".ofb-edge/tokens"), now: new Date() });
    io.stdout(`Authorization-server stub (TEST ONLY) listening on ${host}:${port}`);
    io.stdout(`  issuer         ${stub.issuer}`);
    io.stdout(`  discovery      ${stub.issuer}/.well-known/openid-configuration`);
    io.stdout(`  JWK Set        ${stub.jwksUri}`);
    io.stdout(`  introspection  ${stub.introspectionEndpoint} (no client authentication)`);
    io.stdout(`  token          ${file}: bound to ${DEMO_CLIENT}'s certificate, valid ${DEMO_TOKEN_SECONDS / 3600} h (restart for a new one)`);
  } catch (err) {
    await stub.close();
    throw err;
  }
  return stub.close;
}
