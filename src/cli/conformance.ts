import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Environment } from "../conformance/environment.js";
import { startLocalStack, type LocalStack } from "../conformance/local.js";
import { startRecorder } from "../conformance/recorder.js";
import { htmlReport } from "../conformance/report/html.js";
import { jsonReport } from "../conformance/report/json.js";
import { junitReport } from "../conformance/report/junit.js";
import { liveProgress, summaryTable } from "../conformance/report/terminal.js";
import { loadScenarios, runScenarios, scopeStatement } from "../conformance/runner.js";
import { targetEnvironment, type TargetOptions } from "../conformance/target.js";
import { packageInfo } from "../package-root.js";
import { sourceCommit, type SourceCommit } from "../source-commit.js";

type Io = { stdout: (s: string) => void; stderr: (s: string) => void };

export const CONFORMANCE_USAGE = `Usage: ofb-edge conformance [options]             run every scenario against a local stack (default)
       ofb-edge conformance --target https://HOST:PORT [prerequisites] [options]
                                                   run them against a deployment; scenarios whose prerequisites
                                                   are missing are skipped, the missing option named
       ofb-edge conformance recorder [--host H] [--port N] [--control-port N]
                                                   the recording backend to put behind a deployment under test
       ofb-edge conformance list                   the scenarios, by area

Reports:
  --out DIR                 report.json, junit.xml and report.html in DIR (default reports/conformance)
  --json FILE --junit FILE --html FILE   individual report paths (override --out)
  --only AREA|ID[,…]        run only these areas or scenarios
  --http2                   speak HTTP/2 (ALPN h2) to the edge: every request, and every TLS probe offers h2
  --no-color                plain terminal output

Target prerequisites (each enables more scenarios):
  --client-cert PEM --client-key PEM      an accepted participant (leaf first, then intermediates)
  --token JWT | --token-file FILE         an access token bound to --client-cert
  --client2-cert PEM --client2-key PEM --token2 JWT | --token2-file FILE   a second participant and its token
  --pki DIR                 a test PKI ('ofb-edge pki init') the deployment trusts, with its Directory fixture served
  --recorder URL            control URL of 'ofb-edge conformance recorder' running as the deployment's backend
  --token-issuer-key PEM --token-issuer ISS [--token-issuer-kid KID] [--token-issuer-alg PS256]
                            mint tokens the deployment trusts (forged-binding scenarios)
  --denied-cert PEM --denied-key PEM      a certificate on the deployment's deny list
  --scoped-path P --scope S a route that requires scope S (with --token-issuer-key: insufficient_scope)
  --limited-path P          a route whose per-participant limit 50 requests in a row exceed (429)
  --overloaded-path P       a route whose global ceiling 20 concurrent requests exceed (529)
  --servername NAME --ca PEM --insecure   TLS server name and trust for the target
  --accounts-path P --payments-path P --public-path P   routes to call (OFB defaults)
  --signing-key PEM --signing-kid KID     the message signing key of --client-cert's organisation (PKCS#8) and the
                            kid its application.jwks publishes it under (signed-message scenarios)
  --signed-path P --public-base-url URL   a verify-and-sign route (default /open-banking/payments/v4/consents) and
                            the base URL the bank publishes, the start of a message's aud (default --target)
  --bank-jwks FILE --bank-organisation-id ID   the bank's application.jwks and organisation id: signed responses verified

Every report leads with what was tested: "local: tests ofb-edge's own stack on this machine; it says nothing about a
deployment", or the deployment's URL; then the ofb-edge commit (OFB_EDGE_COMMIT, else the git checkout's HEAD, else
unknown), the mode, the target, a SHA-256 fingerprint of the configuration (local: the edge's effective configuration
without secrets and ports; target: the options given, without keys or tokens), the protocol and the date.

Exit status: 0 when no scenario failed, 1 when any failed, 2 on usage or set-up errors.`;

const OPTIONS = {
  target: { type: "string" },
  servername: { type: "string" },
  ca: { type: "string" },
  insecure: { type: "boolean" },
  "client-cert": { type: "string" },
  "client-key": { type: "string" },
  token: { type: "string" },
  "token-file": { type: "string" },
  "client2-cert": { type: "string" },
  "client2-key": { type: "string" },
  token2: { type: "string" },
  "token2-file": { type: "string" },
  pki: { type: "string" },
  recorder: { type: "string" },
  "token-issuer-key": { type: "string" },
  "token-issuer": { type: "string" },
  "token-issuer-kid": { type: "string" },
  "token-issuer-alg": { type: "string" },
  "denied-cert": { type: "string" },
  "denied-key": { type: "string" },
  "scoped-path": { type: "string" },
  "limited-path": { type: "string" },
  "overloaded-path": { type: "string" },
  scope: { type: "string" },
  "accounts-path": { type: "string" },
  "payments-path": { type: "string" },
  "public-path": { type: "string" },
  "signing-key": { type: "string" },
  "signing-kid": { type: "string" },
  "signed-path": { type: "string" },
  "public-base-url": { type: "string" },
  "bank-jwks": { type: "string" },
  "bank-organisation-id": { type: "string" },
  out: { type: "string" },
  json: { type: "string" },
  junit: { type: "string" },
  html: { type: "string" },
  only: { type: "string" },
  http2: { type: "boolean" },
  "no-color": { type: "boolean" },
} as const;

/**
 * `ofb-edge conformance` (issue 7): the black-box suite in `conformance/scenarios`, against the local stack
 * or a deployment, with a live terminal view, a summary by area and JSON, JUnit XML and HTML reports.
 */
export async function runConformance(
  argv: string[],
  io: Io,
  o: { readonly env: Readonly<Record<string, string | undefined>>; readonly stdout: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean } },
): Promise<number> {
  if (argv[0] === "recorder") return runRecorder(argv.slice(1), io);
  if (argv[0] === "list") return listScenarios(io);
  let values: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; strict: true }>>["values"];
  try {
    values = parseArgs({ args: argv, options: OPTIONS, strict: true }).values;
  } catch (err) {
    io.stderr(`ofb-edge conformance: ${(err as Error).message}\n\n${CONFORMANCE_USAGE}`);
    return 2;
  }
  const only = values.only?.split(",").map((s) => s.trim()).filter(Boolean);
  const all = await loadScenarios();
  const scenarios = only ? all.filter((s) => only.includes(s.area) || only.includes(s.id)) : all;
  if (scenarios.length === 0) {
    io.stderr(`ofb-edge conformance: --only ${values.only} matches no area or scenario (see 'ofb-edge conformance list')`);
    return 2;
  }

  let commit: SourceCommit;
  try {
    commit = sourceCommit(o.env);
  } catch (err) {
    io.stderr(`ofb-edge conformance: ${(err as Error).message}`);
    return 2;
  }

  let stack: LocalStack | undefined;
  let env: Environment;
  try {
    if (values.target) {
      env = await targetEnvironment(targetOptions(values));
    } else {
      io.stdout("Starting the local stack (test PKI, mock Directory, authorization server, recorder, edge)…");
      stack = await startLocalStack({ env: o.env, protocol: values.http2 ? "http2" : "http1.1" });
      env = stack.environment;
    }
  } catch (err) {
    io.stderr(`ofb-edge conformance: ${(err as Error).message}`);
    return 2;
  }
  const colour = !values["no-color"] && o.stdout.isTTY === true && o.env.NO_COLOR === undefined;
  let result;
  try {
    io.stdout(`${scopeStatement(env)}\nRunning ${scenarios.length} scenarios against the ${env.description}`);
    result = await runScenarios(env, scenarios, liveProgress(o.stdout, { colour }), commit);
  } finally {
    await stack?.close();
  }
  io.stdout(summaryTable(result, { colour }));

  const tool = packageInfo();
  const out = resolve(values.out ?? join("reports", "conformance"));
  const files = [
    [values.json ?? join(out, "report.json"), jsonReport(result, tool)],
    [values.junit ?? join(out, "junit.xml"), junitReport(result)],
    [values.html ?? join(out, "report.html"), htmlReport(result, tool)],
  ] as const;
  for (const [file, text] of files) {
    await mkdir(dirname(resolve(file)), { recursive: true });
    await writeFile(file, text);
  }
  io.stdout(`Reports: ${files.map(([f]) => f).join(", ")}`);
  return result.counts.fail > 0 ? 1 : 0;
}

function targetOptions(v: Partial<Record<keyof typeof OPTIONS, string | boolean>>): TargetOptions {
  const s = (k: keyof typeof OPTIONS) => (typeof v[k] === "string" ? (v[k] as string) : undefined);
  const picked: Record<string, string | boolean | undefined> = {
    target: s("target"),
    servername: s("servername"),
    caFile: s("ca"),
    insecure: v.insecure === true,
    clientCert: s("client-cert"),
    clientKey: s("client-key"),
    token: s("token"),
    tokenFile: s("token-file"),
    client2Cert: s("client2-cert"),
    client2Key: s("client2-key"),
    token2: s("token2"),
    token2File: s("token2-file"),
    pki: s("pki"),
    recorder: s("recorder"),
    tokenIssuerKey: s("token-issuer-key"),
    tokenIssuer: s("token-issuer"),
    tokenIssuerKid: s("token-issuer-kid"),
    tokenIssuerAlg: s("token-issuer-alg"),
    deniedCert: s("denied-cert"),
    deniedKey: s("denied-key"),
    scopedPath: s("scoped-path"),
    limitedPath: s("limited-path"),
    overloadedPath: s("overloaded-path"),
    scope: s("scope"),
    accountsPath: s("accounts-path"),
    paymentsPath: s("payments-path"),
    publicPath: s("public-path"),
    http2: v.http2 === true ? true : undefined,
    signingKey: s("signing-key"),
    signingKid: s("signing-kid"),
    signedPath: s("signed-path"),
    publicBaseUrl: s("public-base-url"),
    bankJwks: s("bank-jwks"),
    bankOrganisationId: s("bank-organisation-id"),
  };
  return Object.fromEntries(Object.entries(picked).filter(([, value]) => value !== undefined)) as unknown as TargetOptions;
}

async function listScenarios(io: Io): Promise<number> {
  for (const s of await loadScenarios()) io.stdout(`${`${s.area}/${s.id}`.padEnd(64)} ${s.title}`);
  return 0;
}

async function runRecorder(argv: string[], io: Io): Promise<number> {
  let values: { host?: string; port?: string; "control-port"?: string };
  try {
    values = parseArgs({ args: argv, options: { host: { type: "string" }, port: { type: "string" }, "control-port": { type: "string" } }, strict: true }).values;
  } catch (err) {
    io.stderr(`ofb-edge conformance recorder: ${(err as Error).message}\n\n${CONFORMANCE_USAGE}`);
    return 2;
  }
  const port = values.port === undefined ? 0 : Number(values.port);
  const controlPort = values["control-port"] === undefined ? 0 : Number(values["control-port"]);
  if (![port, controlPort].every((p) => Number.isInteger(p) && p >= 0 && p < 65536)) {
    io.stderr("ofb-edge conformance recorder: --port and --control-port take a port number");
    return 2;
  }
  const recorder = await startRecorder({ host: values.host ?? "127.0.0.1", port, controlPort });
  io.stdout(`Recorder: backend ${recorder.url} (point the edge's routes here), control ${recorder.controlUrl} (pass as --recorder). Ctrl-C stops it.`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await recorder.close();
  return 0;
}
